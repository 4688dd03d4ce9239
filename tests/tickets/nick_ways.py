"""The nickname search's ways, forced: for tests that check every way gives the same orders."""

from tickets import selectors


def forced_way(way: str):
    """A stand-in for ``selectors.nick_way`` that always takes ``way``: "walk" the newest
    orders, or go through the matching nicknames as a "list" of values or as a "subquery"."""

    def choose(user, term, wanted, lookup="icontains"):
        if way == "walk":
            return None
        matching = selectors.nick_matches(term, lookup)
        return matching if way == "subquery" else [row["nick"] for row in matching]

    return choose
