"""Command and reports: boards, daily and zero reports, self-inspection, problems list,
Word output."""
