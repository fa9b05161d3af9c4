"""Training engine: data forms, models, the live callback, schedules, saving."""
