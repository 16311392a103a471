"""Checkpoints: checkpoints, passages, duty rosters, inspections of duty."""
