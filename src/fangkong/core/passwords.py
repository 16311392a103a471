"""Password rules of Fangkong beyond Django's validators.

The demo's shared password is printed on every demo start and written in the README: it
belongs to the demo's own accounts and database only, never to an account that
``createuser``, the admin or a password change makes.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DEMO_PASSWORD = "fangkong-demo"


class NotTheDemoPasswordValidator:
    """Refuses the demo's published password (in any letter case)."""

    def validate(self, password: str, user: Any = None) -> None:
        if password.strip().lower() == DEMO_PASSWORD:
            raise ValidationError(
                _("This is the demo's published password; choose another."),
                code="demo_password",
            )

    def get_help_text(self) -> str:
        return _("Your password cannot be the demo's published password.")
