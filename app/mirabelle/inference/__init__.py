"""Kinematics inference, Qt-free: models (`model`), THE preprocessing (`preprocess`), the
whole-cube runner (`runner`) with its line solve (`linefit`, `templates`) and maps (`maps`),
saliency (`saliency`), the maps cache (`cache`) and DS9 regions as pixel masks (`region`)."""
