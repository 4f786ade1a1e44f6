"""Accounts: users, the roles they hold and the permissions roles grant, signed-in web
sessions, and write transactions that queue on SQLite.

Review, deliberation, customisation and the web app all sign people in through this
package; none of them owns accounts. See docs/serve.md for the roles and how the web app
checks permissions.
"""

from accord.accounts._accounts import (
    MIN_PASSWORD_LENGTH,
    SESSION_LIFETIME,
    Account,
    AccountError,
    authenticate,
    change_password,
    create_user,
    end_session,
    ensure_admin,
    generate_password,
    get_user,
    has_admin,
    list_users,
    roles_of,
    session_account,
    set_password,
    start_session,
)
from accord.accounts._cli import users_app
from accord.accounts._limits import counter_key, locked_counters, reset_counter, sweep_counters
from accord.accounts._models import LimitCounter, User, UserRole, WebSession
from accord.accounts._roles import (
    ADMIN,
    DELIBERATE,
    MODERATE,
    PERMISSIONS,
    PUBLIC,
    REVIEW,
    ROLES,
    SIGNED_IN,
    SURVEY,
    Role,
    permissions_of,
)
from accord.accounts._write import write_session

__all__ = [
    "ADMIN",
    "DELIBERATE",
    "MIN_PASSWORD_LENGTH",
    "MODERATE",
    "PERMISSIONS",
    "PUBLIC",
    "REVIEW",
    "ROLES",
    "SESSION_LIFETIME",
    "SIGNED_IN",
    "SURVEY",
    "Account",
    "AccountError",
    "LimitCounter",
    "Role",
    "User",
    "UserRole",
    "WebSession",
    "authenticate",
    "change_password",
    "counter_key",
    "create_user",
    "end_session",
    "ensure_admin",
    "generate_password",
    "get_user",
    "has_admin",
    "list_users",
    "locked_counters",
    "permissions_of",
    "reset_counter",
    "roles_of",
    "session_account",
    "set_password",
    "start_session",
    "sweep_counters",
    "users_app",
    "write_session",
]
