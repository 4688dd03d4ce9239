"""Buyers' personal data: masked by default, revealed only on purpose (DOMAIN.md 泄露信息)."""

import re


def mask_phone(phone: str) -> str:
    """'13812345678' -> '138****5678'; anything shorter keeps only its last two digits."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    if digits:
        return "*" * max(len(digits) - 2, 1) + digits[-2:]
    return ""


def mask_name(name: str) -> str:
    """'张三' -> '张*', '欧阳娜娜' -> '欧***'."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_address(address: str) -> str:
    """Keeps the first few characters (the street) and hides the house number and room."""
    address = (address or "").strip()
    if not address:
        return ""
    return address[: min(4, len(address))] + "****"


def mask_nick(nick: str) -> str:
    """Nicknames show in lists (agents search by them), so they stay readable but trimmed."""
    nick = (nick or "").strip()
    if len(nick) <= 2:
        return nick[:1] + "*"
    return nick[:2] + "***" + nick[-1:]
