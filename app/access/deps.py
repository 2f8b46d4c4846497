"""Scope declarations: every route takes exactly one of ``Public``, ``ReadScope``,
``WriteScope``, ``AdminScope`` or ``OperatorScope``, which answers the request's :class:`Caller`.

The access guard has already authenticated the request; these only compare the caller's
scope with the route's. A route needing ``read`` serves anonymous callers when
``DEMARCHE_PUBLIC_READ`` is on; otherwise no key is 401 and too small a scope 403.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.access.models import Caller, KeyScope
from app.kit.problems import Forbidden, Unauthorized

bearer = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="dmk_<id>_<secret>",
    description="An API key from `POST /v1/keys` or `demarche keys create`.",
    auto_error=False,
)


def admitted(caller: Caller, needed: KeyScope, public_read: bool) -> bool:
    """Whether ``caller`` may call an operation that needs ``needed``: with a key that allows
    it, or without one for a read where ``DEMARCHE_PUBLIC_READ`` is on."""
    if caller.scope is None:
        return needed is KeyScope.read and public_read
    return caller.scope.allows(needed)


def _requiring(needed: KeyScope) -> Callable[..., Awaitable[Caller]]:
    """A dependency that lets through callers allowed ``needed``. Its ``credentials``
    parameter is what puts the bearer scheme and the scope into the operation's OpenAPI
    ``security``; the key itself was checked by the guard."""

    async def require(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer, scopes=[needed.value])],
    ) -> Caller:
        caller: Caller = request.state.caller
        if admitted(caller, needed, request.app.state.settings.public_read):
            return caller
        if caller.scope is None:
            raise Unauthorized(
                f"This operation needs an API key with the {needed} scope: send `Authorization: Bearer <key>`.",
                headers={"WWW-Authenticate": 'Bearer realm="demarche"'},
            )
        raise Forbidden(f"This operation needs a key with the {needed} scope; this key has {caller.scope}.")

    require.__name__ = f"require_{needed}"
    return require


async def public(request: Request) -> Caller:
    """Anyone may call; the caller is answered all the same."""
    return request.state.caller


async def operator(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer, scopes=[KeyScope.admin.value])],
) -> Caller:
    """What the service tells of itself (its metrics): anyone where anonymous reads are on
    (a local demo), else only an ``admin`` key, since route counts and latencies show how
    others use a private deployment."""
    if request.app.state.settings.public_read:
        return request.state.caller
    return await require_admin(request, credentials)


require_read = _requiring(KeyScope.read)
require_write = _requiring(KeyScope.write)
require_admin = _requiring(KeyScope.admin)

Public = Annotated[Caller, Depends(public)]
ReadScope = Annotated[Caller, Depends(require_read)]
WriteScope = Annotated[Caller, Depends(require_write)]
AdminScope = Annotated[Caller, Depends(require_admin)]
OperatorScope = Annotated[Caller, Depends(operator)]
