"""The work of the organizing commands (``fav``, ``tag``, ``album``, ``rm``): images and albums as people name
them, and one batch request for many images with what became of each.

Images are named by their ids or unique starts of them; albums by their ids or unique names. A batch is
sent with the names as given first (full ids, the usual case, cost nothing more); only the names the API
did not know are then looked up as starts of ids, in one listing of the owner's images, and sent again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imgmgr.client import ApiClient, ApiClientError

#: Most candidates an ambiguous id start or album name names.
SHOWN_CANDIDATES = 10


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one image a command named."""

    given: str
    """The id or start of an id as given."""
    image_id: str | None
    """The image it named; ``None`` when it named none (or several)."""
    status: int
    """The batch result's status (200 changed, 204 deleted), or that of the problem."""
    code: str | None = None
    message: str | None = None
    image: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status < 400


def pick(given: str, candidates: list[str]) -> str:
    """The one image id of ``candidates`` (the owner's ids starting with ``given``); ``ApiClientError`` 404
    when there is none, 409 ``Image.AmbiguousPrefix`` naming them when there are several."""
    if not candidates:
        raise ApiClientError(404, "Image.NotFound", f"no image {given!r} for this key (nor one whose id starts so)")
    if len(candidates) > 1:
        shown = ", ".join(candidates[:SHOWN_CANDIDATES])
        more = f" and {len(candidates) - SHOWN_CANDIDATES} more" if len(candidates) > SHOWN_CANDIDATES else ""
        raise ApiClientError(
            409,
            "Image.AmbiguousPrefix",
            f"{given!r} is the start of {len(candidates)} image ids: {shown}{more}; give more of the id",
        )
    return candidates[0]


def owner_ids(client: ApiClient) -> list[str]:
    """Every id of the owner's images (every state but deleted), newest first: one listing, page by page."""
    ids: list[str] = []
    cursor = None
    while True:
        page = client.list_images(limit=100, cursor=cursor)
        ids.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def _outcome(given: str, result: dict[str, Any]) -> Outcome:
    return Outcome(
        given=given,
        image_id=result["image_id"] if result["status"] < 400 else None,
        status=result["status"],
        code=result.get("code"),
        message=result.get("message"),
        image=result.get("image"),
    )


def act(
    client: ApiClient, given: list[str], action: str, *, tags: tuple[str, ...] = (), album_id: str | None = None
) -> list[Outcome]:
    """``action`` on the images ``given`` names (ids or unique starts), an outcome per name in their order
    (a name given twice once). ``ApiClientError`` only for what fails the whole request (an album that is
    not the owner's, the API unreachable)."""
    names = list(dict.fromkeys(given))
    outcomes = {
        name: _outcome(name, result)
        for name, result in zip(names, client.batch(names, action, tags=tags, album_id=album_id), strict=True)
    }
    unknown = [name for name, outcome in outcomes.items() if outcome.code == "Image.NotFound"]
    if unknown:
        ids = owner_ids(client)
        resolved: dict[str, str] = {}
        for name in unknown:
            try:
                resolved[name] = pick(name, [image_id for image_id in ids if image_id.startswith(name)])
            except ApiClientError as exc:
                outcomes[name] = Outcome(name, None, exc.status, exc.code, exc.detail)
        done = {outcome.image_id: outcome for outcome in outcomes.values() if outcome.ok}
        again = [image_id for image_id in dict.fromkeys(resolved.values()) if image_id not in done]
        if again:
            answers = client.batch(again, action, tags=tags, album_id=album_id)
            done.update({result["image_id"]: _outcome(result["image_id"], result) for result in answers})
        for name, image_id in resolved.items():
            found = done.get(image_id)
            if found is not None:
                outcomes[name] = Outcome(name, image_id, found.status, found.code, found.message, found.image)
    return [outcomes[name] for name in names]


def _album_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def find_album(client: ApiClient, given: str) -> dict[str, Any]:
    """The owner's album ``given`` names: its id, or its name (case and spacing ignored) when that is unique.
    ``ApiClientError`` 404 ``Album.NotFound``, or 409 ``Album.AmbiguousName`` naming the albums' ids."""
    albums = client.albums()
    for album in albums:
        if album["album_id"] == given:
            return album
    named = [album for album in albums if _album_name(album["name"]) == _album_name(given)]
    if not named:
        raise ApiClientError(404, "Album.NotFound", f"no album {given!r} for this key (by id or name)")
    if len(named) > 1:
        shown = ", ".join(album["album_id"] for album in named[:SHOWN_CANDIDATES])
        raise ApiClientError(
            409, "Album.AmbiguousName", f"{len(named)} albums are named {given!r}: {shown}; give its id"
        )
    return named[0]
