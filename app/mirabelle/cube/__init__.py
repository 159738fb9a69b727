"""cube"""
