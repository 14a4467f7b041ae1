"""Groups (a class, a cohort, a team) with their operators, and invite codes that enrol members."""
