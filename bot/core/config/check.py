"""Checks that relate one part of the configuration to another, and policy resolution.

A policy reference is a name (built-in or under ``policies``) or an inline policy. An inline
policy with ``use: NAME`` starts from that named policy; without ``use`` it starts from the
policy that applies one level up, so ``prod: {soak: 48h}`` changes only the soak. The levels,
weakest first: ``defaults.policy``, the environment's ``policy``, the app's ``policy[env]``.
A policy under ``policies`` may shadow a built-in of the same name and ``use:`` it.

Every problem carries the location (a pydantic-style ``loc`` tuple) that ``configload`` turns
into a file line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bot.core.config.model import PromotionConfig
from bot.core.config.policy import Policy

Loc = tuple[str | int, ...]
_EMPTY = Policy()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration, at ``loc``."""

    loc: Loc
    message: str


class PolicyLookupError(LookupError):
    """A ``use:`` or policy name that does not lead to a policy."""


@dataclass(frozen=True)
class Resolution:
    """Effective policies per (app, environment), or the problems that prevented them."""

    effective: Mapping[tuple[str, str], Policy]
    problems: tuple[Problem, ...]


class _Names:
    """Named policies: the user's under ``policies`` first, then the built-in ones."""

    def __init__(self, user: Mapping[str, Policy], builtin: Mapping[str, Policy]) -> None:
        self.user = user
        self.builtin = builtin

    def get(self, name: str, stack: tuple[str, ...] = ()) -> Policy:
        if name in self.user and name not in stack:
            return self._apply(self.user[name], name, self, (*stack, name))
        builtin_key = f"built-in {name}"
        if name in self.builtin and builtin_key not in stack:
            builtin_only = _Names({}, self.builtin)
            return self._apply(self.builtin[name], name, builtin_only, (*stack, builtin_key))
        if name in self.user or name in self.builtin:
            raise PolicyLookupError(f"policy cycle: {' -> '.join((*stack, name))}")
        known = ", ".join(sorted({*self.user, *self.builtin})) or "none"
        raise PolicyLookupError(f"unknown policy {name!r} (known: {known})")

    @staticmethod
    def _apply(spec: Policy, name: str, names: _Names, stack: tuple[str, ...]) -> Policy:
        base = names.get(spec.use, stack) if spec.use else _EMPTY
        return layer(base, spec, name)

    def ref(self, ref: str | Policy, below: Policy) -> Policy:
        """The policy a reference means on top of ``below``, the level under it."""
        if isinstance(ref, str):
            return self.get(ref)
        base = self.get(ref.use) if ref.use else below
        return layer(base, ref)


def layer(base: Policy, spec: Policy, name: str | None = None) -> Policy:
    """``base`` with the fields ``spec`` sets; ``use`` records the named policy underneath."""
    return base.model_copy(update={**spec.overrides(), "use": name or spec.use or base.use})


def resolve_policy(spec: Policy, builtin: Mapping[str, Policy]) -> Policy:
    """A stand-alone policy (e.g. a policy file) with its ``use:`` applied."""
    return _Names({}, builtin).ref(spec, _EMPTY)


def resolve_policies(config: PromotionConfig, builtin: Mapping[str, Policy]) -> Resolution:
    """Check cross references and compute every app's effective policy per environment."""
    problems = [*_environment_problems(config), *_app_problems(config)]
    names = _Names(config.policies, builtin)
    problems += _reference_problems(config, names)
    if problems:
        return Resolution({}, tuple(dict.fromkeys(problems)))
    effective: dict[tuple[str, str], Policy] = {}
    for app in config.apps:
        order = [env.name for env in config.environments_of(app)]
        for index, env in enumerate(order):
            policy = _effective(config, names, app, env)
            if policy.after is None and index > 0:
                policy = policy.model_copy(update={"after": order[index - 1]})
            elif policy.after is not None and policy.after not in order[:index]:
                problems.append(Problem(_after_loc(config, app, env), _after_message(policy, env)))
            effective[(app, env)] = policy
    return Resolution(effective, tuple(dict.fromkeys(problems)))


def resolve_config(config: PromotionConfig, builtin: Mapping[str, Policy]) -> PromotionConfig:
    """``config`` able to answer ``policy_for``; ValueError listing problems otherwise."""
    resolution = resolve_policies(config, builtin)
    if resolution.problems:
        lines = (f"{_dotted(p.loc)}: {p.message}" for p in resolution.problems)
        raise ValueError("invalid promotion config:\n" + "\n".join(lines))
    return config.with_policies(resolution.effective)


def _dotted(loc: Loc) -> str:
    return ".".join(str(part) for part in loc)


def _after_message(policy: Policy, env: str) -> str:
    return f"after={policy.after} must name an environment before {env} in the app's order"


def _effective(config: PromotionConfig, names: _Names, app: str, env: str) -> Policy:
    policy = names.ref(config.defaults.policy, _EMPTY)
    env_ref = config.environment(env).policy
    if env_ref is not None:
        policy = names.ref(env_ref, policy)
    app_ref = config.apps[app].policy.get(env)
    return policy if app_ref is None else names.ref(app_ref, policy)


def _after_loc(config: PromotionConfig, app: str, env: str) -> Loc:
    """Where the app's policy for ``env`` is written: the most specific level present."""
    for loc, ref in _levels(config, app, env):
        if ref is not None:
            return (*loc, "after") if isinstance(ref, Policy) and ref.after else loc
    return ("apps", app)


def _levels(config: PromotionConfig, app: str, env: str) -> Iterator[tuple[Loc, object]]:
    yield ("apps", app, "policy", env), config.apps[app].policy.get(env)
    index = [e.name for e in config.environments].index(env)
    yield ("environments", index, "policy"), config.environments[index].policy
    yield ("defaults", "policy"), config.defaults.policy


def _environment_problems(config: PromotionConfig) -> Iterator[Problem]:
    names: dict[str, int] = {}
    places: dict[tuple[str | None, str | None, str], int] = {}
    for index, env in enumerate(config.environments):
        if env.name in names:
            first = f"environments.{names[env.name]}"
            yield Problem(
                ("environments", index, "name"), f"duplicate name {env.name}, see {first}"
            )
        names.setdefault(env.name, index)
        if env.location in places:
            first = f"environments.{places[env.location]}"
            yield Problem(("environments", index), f"same repo, branch and path as {first}")
        places.setdefault(env.location, index)


def _app_problems(config: PromotionConfig) -> Iterator[Problem]:
    known = [env.name for env in config.environments]
    for key, app in config.apps.items():
        if app.name != key:
            yield Problem(("apps", key, "name"), f"name {app.name} differs from its key {key}")
        seen: set[str] = set()
        for index, env in enumerate(app.environments or ()):
            if env not in known:
                yield Problem(("apps", key, "environments", index), _unknown_env(env, known))
            elif env in seen:
                yield Problem(("apps", key, "environments", index), f"{env} is listed twice")
            seen.add(env)
        runs_in = app.environments or known
        for env in app.policy:
            if env not in known:
                yield Problem(("apps", key, "policy", env), _unknown_env(env, known))
            elif env not in runs_in:
                yield Problem(("apps", key, "policy", env), f"app does not run in {env}")


def _unknown_env(name: str, known: list[str]) -> str:
    return f"unknown environment {name} (environments: {', '.join(known)})"


def _reference_problems(config: PromotionConfig, names: _Names) -> Iterator[Problem]:
    known = [env.name for env in config.environments]
    for loc, ref in _references(config):
        used = ref if isinstance(ref, str) else ref.use
        # A named policy's own name heads the chain, so a cycle reads "a -> b -> a".
        within = (str(loc[1]),) if loc[0] == "policies" else ()
        try:
            if used is not None:
                names.get(used, within)
        except PolicyLookupError as err:
            yield Problem(loc if isinstance(ref, str) else (*loc, "use"), str(err))
        if isinstance(ref, Policy) and ref.after is not None and ref.after not in known:
            yield Problem((*loc, "after"), _unknown_env(ref.after, known))


def _references(config: PromotionConfig) -> Iterator[tuple[Loc, str | Policy]]:
    """Every place a policy is written, named policies included."""
    for name, policy in config.policies.items():
        yield ("policies", name), policy
    yield ("defaults", "policy"), config.defaults.policy
    for index, env in enumerate(config.environments):
        if env.policy is not None:
            yield ("environments", index, "policy"), env.policy
    for key, app in config.apps.items():
        for env_name, ref in app.policy.items():
            yield ("apps", key, "policy", env_name), ref
