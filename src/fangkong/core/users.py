"""Creating users with a role and jurisdictions (the service behind ``fangkong createuser``)."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from .errors import FieldError, ValidationFailed
from .models import Region, User
from .roles import Role


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str,
    role: str,
    region_codes: Sequence[str],
    display_name: str = "",
    check_password_strength: bool = True,
) -> User:
    """Create an active user holding ``role`` over ``region_codes``.

    Every code must exist in the region table, a role other than administrator needs at
    least one region, and the password must pass Django's validators (length, common,
    all-digit, and too like the username) unless ``check_password_strength`` is false
    (the demo's accounts only).
    """
    errors: list[FieldError] = []
    username = username.strip()
    if not username:
        errors.append(FieldError("username", "用户名不能为空"))
    elif User.objects.filter(username=username).exists():
        errors.append(FieldError("username", f"用户名 {username} 已存在"))
    if role not in Role.values:
        errors.append(FieldError("role", f"角色 {role} 无效，可选：{', '.join(Role.values)}"))
    codes = list(dict.fromkeys(c.strip() for c in region_codes if c.strip()))
    known = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
    for code in codes:
        if code not in known:
            errors.append(FieldError("region", f"区划代码 {code} 不存在（请先导入区划）"))
    if not codes and role != Role.ADMIN:
        errors.append(FieldError("region", "至少需要一个管辖区划代码"))
    if check_password_strength and password:
        try:
            validate_password(password, user=User(username=username, display_name=display_name))
        except DjangoValidationError as exc:
            errors.extend(FieldError("password", m) for m in exc.messages)
    if not password:
        errors.append(FieldError("password", "密码不能为空"))
    if errors:
        raise ValidationFailed(errors)
    user = User.objects.create_user(
        username=username,
        password=password,
        role=role,
        display_name=display_name,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN and not codes,
    )
    user.regions.set(codes)
    return user
