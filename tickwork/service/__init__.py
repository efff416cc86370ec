"""The service layer: every rule about changing schedules and runs, once, for every interface."""
