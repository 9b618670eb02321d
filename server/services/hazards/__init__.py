"""The manager's hazards: find, export, count, read one with its history, take a step."""
