"""Training engine: vectorised seed ensembles, schedules, on-device augmentation, records."""
