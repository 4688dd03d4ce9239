from decimal import Decimal

from django import template

from tickets.money import cents

register = template.Library()


@register.filter
def yuan(value) -> str:
    """¥1,234.50 - the way finance writes money, in every language (Django's zh-hans number
    format would drop the thousands separator)."""
    if value in (None, ""):
        return "—"
    amount = cents(Decimal(str(value)))
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"
