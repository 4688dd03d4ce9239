"""What a browser would send for a form as rendered: reads the page's HTML (stdlib parser) and
collects each control's default value, so a test can "press Enter" on a rendered form."""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, action):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.found = False
        self.data = {}
        self._select = None  # (name, first option value, chosen value)
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.found and a.get("action") == self.action:
            self.inside = self.found = True
            return
        if not self.inside or a.get("disabled") is not None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.data[name] = a.get("value") or ("on" if kind in ("checkbox", "radio") else "")
        elif tag == "select" and name:
            self._select = [name, None, None]
        elif tag == "option" and self._select is not None:
            value = a.get("value")
            self._option = value
            if self._select[1] is None:
                self._select[1] = value
            if "selected" in a:
                self._select[2] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self._select is not None:
            name, first, chosen = self._select
            self.data[name] = chosen if chosen is not None else (first or "")
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_defaults(html: str, action: str) -> dict:
    """The fields the first ``<form action="{action}">`` of ``html`` submits untouched."""
    reader = _FormReader(action)
    reader.feed(html)
    assert reader.found, f"no form posting to {action}"
    return reader.data
