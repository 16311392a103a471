"""Emergency: command structure, zones, plans, drills, teams, mode, volunteers."""
