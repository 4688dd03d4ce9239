"""Turning the text of one cell into the value the desk stores, or a message saying why not.

Spreadsheets leave marks on exported numbers: ``="3515..."`` and ``'3515...`` (kept as text),
a leading tab, and ``3.515E+18`` when a program turned an order number into a float and lost
its last digits. The first three are cleaned; the last is never stored as if it were the
number (issue 12, section 4): in an identifier column (order, sub-order, refund and Alipay
numbers, tracking numbers, merchant codes) the row is refused with its line; a phone is left
out of the import with a warning (``clean_phone`` raises, the order file warns).
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from tickets.money import MoneyError, parse_money
from tickets.text import digits_lost

from .layout import fold, mapping

# The seller centre writes Beijing time without a zone.
SELLER_CENTRE_TZ = ZoneInfo("Asia/Shanghai")
# The years a time in an export may have (1970 is what some tools write for "no time").
YEARS = range(1970, 2100)

_EXCEL_FORMULA = re.compile(r'^=\s*"(.*)"$', re.DOTALL)
# What a phone number is written with: digits, and spaces, '+', '-' and brackets between them.
_PHONE = re.compile(r"[0-9+\-() ]+")
# ASCII digits only: ``\d`` also takes Arabic-Indic and other scripts' digits, which NFKC
# leaves as they are and no search or platform lookup would find.
_ORDER_NO = re.compile(r"^[0-9]{6,32}$")
# A mainland mobile number behind its country code (+86, 0086, 86), separators removed.
_MOBILE_WITH_COUNTRY = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})")
_DATETIME = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?$"
)
_POSTCODE = re.compile(r"[(（]\s*([0-9]{6})\s*[)）]\s*$")
_PROVINCE_IN_TEXT = re.compile(
    r"^(北京市?|天津市?|上海市?|重庆市?|.{2,3}?省|.{2,8}?自治区|.{2}特别行政区)"
)
_CITY_IN_TEXT = re.compile(r"^(.{1,10}?(?:市|自治州|地区|盟))")
_DISTRICT_IN_TEXT = re.compile(r"^(.{1,10}?(?:区|县|市|旗))")


class CellError(ValueError):
    """A cell the desk cannot take; the message is for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def unwrap(raw: str | None) -> str:
    """A cell without the marks spreadsheets leave: ``="..."``, a leading ``'``, tabs and
    surrounding spaces."""
    text = (raw or "").strip()
    # Only a cell starting with "=" can be a formula; most are not (amounts, times, names).
    match = text.startswith("=") and _EXCEL_FORMULA.match(text)
    if match:
        text = match.group(1).strip()
    return text.lstrip("'\t").strip()


def clean_text(raw: str | None) -> str:
    return (raw or "").strip()


def clean_order_no(raw: str | None, *, required: bool = True) -> str:
    """An order (or sub-order, refund) number: 6 to 32 ASCII digits, kept as text.

    Raises ``CellError`` for a number that starts with 0: the platform's (Taobao's) order,
    sub-order and refund numbers never do, so '0123…' is a number a program padded or a
    spreadsheet or a person changed, and kept it would be a look-alike of '123…' (two orders the
    search shows side by side). Refused, not normalised: which of the two was meant is not
    for the desk to guess. The CSV imports and the API's batches both read numbers here."""
    text = unicodedata.normalize("NFKC", unwrap(raw))
    if not text:
        if required:
            raise CellError(_("缺少订单编号。"))
        return ""
    if digits_lost(text):
        raise _lost(text)
    if not _ORDER_NO.match(text):
        raise CellError(_("编号“%(value)s”不是有效的数字编号。") % {"value": text})
    if text.startswith("0"):
        raise CellError(
            _(
                "编号“%(value)s”以 0 开头：平台的订单、子订单和退款编号都不以 0 开头，"
                "请核对后重新导入。"
            )
            % {"value": text}
        )
    return text


def _lost(text: str) -> CellError:
    return CellError(
        _(
            "编号“%(value)s”已被表格软件改成科学计数法，原来的号码已经丢失。"
            "请从卖家中心重新导出，不要用 Excel 打开后再保存。"
        )
        % {"value": text[:40]}
    )


def clean_identifier(raw: str | None, *, letters: bool = True) -> str:
    """An identifier kept as text (a merchant code, an Alipay number) without the spreadsheet
    marks; "" when blank. ``letters``: the column may hold letters (``digits_lost``).

    Raises ``CellError`` when a spreadsheet turned it into scientific notation ('6.90123E+12'):
    its digits are gone, so the row is refused (issue 12, section 4)."""
    text = unicodedata.normalize("NFKC", unwrap(raw))
    if digits_lost(text, letters=letters):
        raise _lost(text)
    return text


def clean_phone(raw: str | None, *, max_length: int = 32) -> str:
    """A phone number without the spreadsheet marks: its digits, with '-' or '+' where written
    ("'139 1234 5678" -> '13912345678', '(027)8888-6666' -> '0278888-6666'); a mainland mobile
    as its 11 digits, without a country code or separators ('+86 139-0000-1111' ->
    '13900001111', as the platform shows it and the search finds it); "" when blank.

    Raises ``CellError`` for what is not a whole phone number: one a spreadsheet turned into
    scientific notation ('1.39E+10', whose digits are gone), one masked with '*', two numbers
    in one cell (more than the 15 digits E.164 allows), or any other text, or longer than
    ``max_length``. The order file imports the order without the phone
    and warns (issue 12, section 4): a phone made of what is left ('139+10') was stored before."""
    text = unicodedata.normalize("NFKC", unwrap(raw))
    if not text:
        return ""
    if digits_lost(text):
        raise CellError(
            _(
                "电话“%(value)s”已被表格软件改成科学计数法，号码已经丢失：这个订单导入时不带电话"
                "（工作台里已有的电话保持不变）。请从卖家中心重新导出，不要用 Excel 打开后再保存。"
            )
            % {"value": text[:40]}
        )
    phone = "".join(ch for ch in text if ch in "0123456789+-")
    digits = sum(ch.isdigit() for ch in phone)
    # No phone number has more than 15 digits (ITU-T E.164): more is two numbers in one cell
    # ('13912345678 13800001111'), which would be stored as one that reaches nobody.
    if not _PHONE.fullmatch(text) or not digits or digits > 15:
        raise CellError(
            _(
                "“%(value)s”不是完整的电话号码：这个订单导入时不带电话"
                "（工作台里已有的电话保持不变）。"
            )
            % {"value": text[:40]}
        )
    if len(phone) > max_length:
        raise CellError(
            _(
                "电话“%(value)s”超过 %(limit)s 个字符：这个订单导入时不带电话"
                "（工作台里已有的电话保持不变）。"
            )
            % {"value": text[:40], "limit": max_length}
        )
    mobile = _MOBILE_WITH_COUNTRY.fullmatch(phone.replace("-", ""))
    if mobile:
        return mobile.group(1)
    if phone.startswith("1"):
        # Every mainland mobile is 11 digits: 10 or 12, or a mobile with an extension
        # ('13912345678-8001', whose tail would be the extension's) reaches nobody.
        raise CellError(
            _(
                "“%(value)s”不是完整的电话号码：这个订单导入时不带电话"
                "（工作台里已有的电话保持不变）。"
            )
            % {"value": text[:40]}
        )
    return phone


def clean_amount(raw: str | None) -> Decimal:
    """A CNY amount as the seller centre writes it: '12.50', '12.5元', '¥1,234.00'; blank is
    0.00. Read by ``tickets.money.parse_money``, the desk's one money parser."""
    try:
        return parse_money(unwrap(raw), allow_zero=True, blank_is_zero=True)
    except MoneyError as exc:
        raise CellError(exc.message) from None


def clean_quantity(raw: str | None) -> int:
    """A whole number of pieces, 1 to 100000: '2', "'3", '1.0', '２'. Not '1e2' or '1_0':
    digits only, as a person writes a count. A whole number too large ('2147483648') is
    refused as out of range, not as "not a whole number"."""
    text = unicodedata.normalize("NFKC", unwrap(raw)).strip()
    if not _QUANTITY.fullmatch(text):
        raise CellError(_("数量“%(value)s”不是整数。") % {"value": raw})
    number = int(text.split(".")[0])
    if number <= 0 or number > 100000:
        raise CellError(_("数量“%(value)s”必须在 1 到 100000 之间。") % {"value": raw})
    return number


# Up to 40 digits (a longer run is no count anyway, and int() of it stays cheap): the range
# check then says what is wrong with it.
_QUANTITY = re.compile(r"[0-9]{1,40}(?:\.0+)?")


def clean_datetime(raw: str | None) -> datetime | None:
    """'2024-03-01 12:34:56', '2024/3/1 12:34', '2024-03-01' (Beijing time); blank -> None.
    Raises ``CellError`` for what is not a time, and for a year outside ``YEARS``: the desk
    adds hours and days to these times (a promise to ship, service levels), and 9999-12-31
    plus two days is no date at all (it crashed the preview)."""
    text = unicodedata.normalize("NFKC", unwrap(raw))
    if not text or text in ("-", "null", "NULL"):
        return None
    match = _DATETIME.match(text)
    if match is None:
        raise CellError(_("时间“%(value)s”的格式无法识别。") % {"value": raw})
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
    if year not in YEARS:
        raise CellError(
            _("时间“%(value)s”不在 %(first)s 到 %(last)s 年之间。")
            % {"value": raw, "first": YEARS.start, "last": YEARS.stop - 1}
        )
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=SELLER_CENTRE_TZ)
    except ValueError:
        raise CellError(_("时间“%(value)s”不是有效的日期。") % {"value": raw}) from None


def clean_tracking_no(raw: str | None) -> str:
    """A tracking number, upper case; of several (split parcels) the first. Raises
    ``CellError`` for one a spreadsheet turned into scientific notation ('7.70012E+11')."""
    text = unicodedata.normalize("NFKC", unwrap(raw)).upper()
    if digits_lost(text, letters=True):
        raise _lost(text)
    for separator in (",", ";", "，", "；", "/", " "):
        text = text.split(separator)[0]
    return text.strip()


def is_yes(raw: str | None) -> bool:
    return fold(unwrap(raw)).casefold() in mapping().yes_texts


@dataclass(frozen=True)
class Address:
    province: str = ""
    city: str = ""
    district: str = ""
    detail: str = ""
    postcode: str = ""


def split_address(raw: str | None) -> Address:
    """'湖北省 武汉市 江汉区 解放大道1号(430000)' -> province, city, district, detail, post code.

    The seller centre separates the parts with spaces; an address written without them is
    split by the suffixes of province, city and district names, as well as that goes."""
    text = (raw or "").strip()
    postcode = ""
    match = _POSTCODE.search(text)
    if match:
        postcode = match.group(1) if match.group(1) != "000000" else ""
        text = text[: match.start()].strip()
    parts = text.split()
    if len(parts) >= 4:
        return Address(parts[0], parts[1], parts[2], " ".join(parts[3:]), postcode)
    if len(parts) == 3:
        return Address(parts[0], parts[1], "", parts[2], postcode)
    if len(parts) == 2:
        return Address(parts[0], "", "", parts[1], postcode)
    return _split_unspaced(text, postcode)


def _split_unspaced(text: str, postcode: str) -> Address:
    found = []
    rest = text
    for pattern in (_PROVINCE_IN_TEXT, _CITY_IN_TEXT, _DISTRICT_IN_TEXT):
        match = pattern.match(rest)
        part = match.group(1) if match else ""
        found.append(part)
        rest = rest[len(part) :]
    province, city, district = found
    if not province:
        return Address(detail=text, postcode=postcode)
    return Address(province, city, district, rest, postcode)


def parse_attributes(raw: str | None) -> tuple[str, str]:
    """'颜色分类:黑色;尺码:XL' -> ('黑色', 'XL'); keys as listed in the mapping file."""
    keys = mapping().attribute_keys
    found = {"colour": "", "size": ""}
    text = unicodedata.normalize("NFKC", raw or "")
    for pair in re.split(r"[;；]", text):
        key, _sep, value = pair.partition(":")
        target = keys.get(fold(key))
        if target and value.strip() and not found[target]:
            found[target] = value.strip()
    return found["colour"], found["size"]
