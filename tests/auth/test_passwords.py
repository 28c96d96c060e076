"""Password hashes (argon2id, Django's formats, bcrypt), rehashing, validators, timing."""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from nightowl.auth import Auth, PasswordHasher, PasswordTooLong, PasswordValidationError, User
from nightowl.auth.hashers import UnknownHashFormat, unusable_password
from nightowl.auth.validators import validate_password
from nightowl.testing import TestClient
from tests.auth.conftest import FAST, log_in

#: Made by Django 5.2's make_password("correct horse", hasher=...).
DJANGO = {
    "pbkdf2_sha256": "pbkdf2_sha256$1000000$262yxIzcLPhXIT9gpJ5Nlc$KakR0Y9s6cSralSwxSyHtEoUGf05rpSRGhi4QTLCZfk=",
    "pbkdf2_sha1": "pbkdf2_sha1$1000000$tUAAXBtKyhWUMAuBPlVOIN$BJpjl+PMf4hsoHuPhej/Oy5G4vI=",
    "bcrypt_sha256": "bcrypt_sha256$$2b$12$MrYma48/VSXcKFtUM6TX0.NfRohAc5OV.bv8VvFFJT9JWtfqSPueG",
    "bcrypt": "bcrypt$$2b$12$Fj86fAv2I.yBWnAEV1IFBuJtnSe0YYRXsQlPJA8OfL5LanqM0JNVy",
    "argon2": "argon2$argon2id$v=19$m=102400,t=2,p=8$MFpKblh1Zm85Qkg5TXJSRXpPd0hiRg$0FpJJjExmlSyag9hzwU5G2oSkmEu3r7Ayl5DeC+WCiw",
}


def test_argon2id_round_trip() -> None:
    encoded = FAST.hash("s3cret pass")
    assert encoded.startswith("$argon2id$")
    assert FAST.verify(encoded, "s3cret pass")
    assert not FAST.verify(encoded, "s3cret pasS")
    assert not FAST.needs_rehash(encoded)
    assert PasswordHasher().needs_rehash(encoded)  # other parameters: rehash


@pytest.mark.parametrize("algorithm", sorted(DJANGO))
def test_django_hashes_verify_and_need_a_rehash(algorithm: str) -> None:
    encoded = DJANGO[algorithm]
    assert FAST.verify(encoded, "correct horse")
    assert not FAST.verify(encoded, "correct horsE")
    assert FAST.needs_rehash(encoded)


def test_unusable_and_unknown_hashes() -> None:
    assert not FAST.verify(unusable_password(), "anything")
    assert not FAST.needs_rehash(unusable_password())
    with pytest.raises(UnknownHashFormat, match="md5"):
        FAST.verify("md5$salt$abc", "x")


def test_over_long_passwords_are_refused_before_hashing() -> None:
    huge = "x" * (1024 * 1024)
    started = time.perf_counter()
    with pytest.raises(PasswordTooLong):
        PasswordHasher().hash(huge)
    with pytest.raises(PasswordTooLong):
        PasswordHasher().verify(DJANGO["pbkdf2_sha256"], huge)
    assert time.perf_counter() - started < 0.05
    assert FAST.verify(FAST.hash("é" * 2048), "é" * 2048)  # 4096 bytes: accepted


def test_user_set_and_check_password() -> None:
    user = User(username="ada")
    user.set_password("pony tail runner", hasher=FAST)
    assert user.password.startswith("$argon2id$")
    assert user.check_password("pony tail runner", hasher=FAST)
    assert not user.check_password("pony", hasher=FAST)
    user.password = DJANGO["pbkdf2_sha256"]
    assert user.check_password("correct horse", hasher=FAST)
    assert user.password.startswith("$argon2id$")  # upgraded on success
    user.set_password(None)
    assert not user.has_usable_password()


def test_imported_django_user_logs_in_and_is_rehashed(client: TestClient, auth: Auth) -> None:
    user = auth.create_user_sync(None, username="django")
    with auth.database.session() as db:
        db.get(User, user.id).password = DJANGO["bcrypt_sha256"]  # type: ignore[union-attr]
        db.commit()
    assert log_in(client, username="django", password="correct horse").status_code == 303
    with auth.database.session() as db:
        assert db.get(User, user.id).password.startswith("$argon2id$")  # type: ignore[union-attr]
    assert log_in(client, username="django", password="correct horse").status_code == 303


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "This password is too short: use at least 8 characters."),
        ("password123", "This password is too common."),
        ("73917204", "This password is entirely numeric."),
        ("adalovelace1", "This password is too similar to the username."),
        ("x" * 5000, "This password is too long: use at most 4096 bytes."),
    ],
)
def test_validators(password: str, message: str) -> None:
    with pytest.raises(PasswordValidationError) as caught:
        validate_password(password, {"username": "adalovelace", "email": "ada@example.com"})
    assert message in caught.value.messages


def test_a_good_password_passes() -> None:
    validate_password("violet kettle orbit", {"username": "ada", "email": "ada@example.com"})


def test_create_user_validates_when_asked(auth: Auth) -> None:
    with pytest.raises(PasswordValidationError):
        asyncio.run(auth.create_user("12345678", username="weak", validate=True))


@pytest.mark.slow
def test_login_timing_is_similar_for_unknown_user_and_wrong_password(
    empty_database_url: str,
) -> None:
    """User enumeration by timing: a login for a name that does not exist costs a hash
    check as well (a dummy one), so it takes as long as a wrong password."""
    from tests.auth.conftest import make_app

    app, auth = make_app(empty_database_url, hasher=PasswordHasher(), throttle=False)
    auth.create_user_sync("the real password", username="ada")

    async def measure(name: str) -> float:
        # The process's CPU time: what the work costs, which other processes on a busy
        # machine do not stretch the way they stretch the wall clock.
        started = time.process_time()
        assert await auth.authenticate(name, "a wrong password") is None
        return time.process_time() - started

    async def run() -> tuple[float, float]:
        await measure("ada")  # warm up: the dummy hash, connections
        await measure("nobody")
        known, unknown = [], []
        for _ in range(12):
            known.append(await measure("ada"))
            unknown.append(await measure("nobody"))
        await auth.database.dispose_async()
        return statistics.median(known), statistics.median(unknown)

    known, unknown = asyncio.run(run())
    app.state.database.close()
    assert 0.7 < unknown / known < 1.4, (known, unknown)
