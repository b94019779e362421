"""Narrate's own checks for schemathesis, on top of its built-in ones.

`role_is_enforced`: the document names the least role of every operation as the scope of its
security requirement (`apiKey: [editor]`). The run's API key has the role in NARRATE_CONTRACT_ROLE;
when that role is below the operation's, the only acceptable answer is 403 (nothing accepted,
nothing validated, nothing revealed).
"""

import os

import schemathesis

RANK = {"viewer": 0, "editor": 1, "admin": 2}
ROLE = os.environ.get("NARRATE_CONTRACT_ROLE", "viewer")


def least_role(operation):
    requirements = operation.definition.raw.get("security") or []
    if any(not req for req in requirements):
        return None  # callable without a principal (signing in, signed download links)
    roles = [scope for req in requirements for scopes in req.values() for scope in scopes if scope in RANK]
    return min(roles, key=RANK.get) if roles else None


@schemathesis.check
def role_is_enforced(ctx, response, case):
    if case.method.upper() != case.operation.method.upper():
        return None  # a probe with a method the path does not have (405), not the operation itself
    needed = least_role(case.operation)
    if needed is None or RANK[ROLE] >= RANK[needed]:
        return None
    if response.status_code != 403:
        raise AssertionError(
            f"a {ROLE} API key got {response.status_code} from {case.method} {case.path}, "
            f"which needs the {needed} role: expected 403"
        )
    return None
