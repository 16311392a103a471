"""Tip-offs: public reports, verification, rewards, penalties."""
