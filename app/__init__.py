"""Demarche: the record of diplomatic incidents, actors, exercises and channels."""
