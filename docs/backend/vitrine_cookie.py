"""Signs the `vitrine_vid` cookie in a Python backend, as `vitrine cookie --id ID` does (README,
"Deploying in front of your shop"). Set it when a customer logs in; clear it when they log out.

    from vitrine_cookie import set_vitrine_cookie
    response.headers["Set-Cookie"] = set_vitrine_cookie(customer.id, os.environ["VITRINE_COOKIE_SECRET"])

    VITRINE_COOKIE_SECRET=... python3 vitrine_cookie.py c-17850   # prints the value
"""
import hashlib
import hmac
import os
import re
import sys

_VID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def vitrine_cookie(vid: str, secret: str) -> str:
    """The cookie's value: `<vid>.<first 16 bytes of HMAC-SHA256(secret, vid), lowercase hex>`."""
    if not _VID.fullmatch(vid):
        raise ValueError(f"visitor id: expected letters, digits and -_.: (1 to 128), found {vid!r}")
    if not secret:
        raise ValueError("VITRINE_COOKIE_SECRET is empty")
    tag = hmac.new(secret.encode(), vid.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{vid}.{tag}"


def set_vitrine_cookie(vid, secret: str) -> str:
    """A whole `Set-Cookie` header value; `None` as the id clears the cookie (at logout)."""
    attrs = "Path=/; HttpOnly; SameSite=Lax; Secure"
    if vid is None:
        return f"vitrine_vid=; {attrs}; Max-Age=0"
    return f"vitrine_vid={vitrine_cookie(vid, secret)}; {attrs}; Max-Age=31536000"


if __name__ == "__main__":
    print(vitrine_cookie(sys.argv[1] if len(sys.argv) > 1 else "", os.environ.get("VITRINE_COOKIE_SECRET", "")))
