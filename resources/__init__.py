"""Icons and other files the application ships."""
