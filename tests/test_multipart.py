"""Forms and uploads: urlencoded and multipart, models from forms, files spooled to disk."""

from typing import Annotated, Any

from pydantic import BaseModel, Field

from nightowl import App, File, Form, Request, UploadFile
from nightowl.testing import TestClient
from tests.live import live_client


class Signup(BaseModel):
    email: str
    age: int = Field(ge=13)
    newsletter: bool = False
    interests: list[str] = []


def test_form_fields(app: App) -> None:
    @app.post("/login")
    def login(
        username: Annotated[str, Form()],
        password: Annotated[str, Form(min_length=3)],
        remember: Annotated[bool, Form()] = False,
    ) -> dict[str, Any]:
        return {"username": username, "remember": remember}

    client = TestClient(app)
    assert client.post("/login", data={"username": "ann", "password": "secret"}).json() == {
        "username": "ann",
        "remember": False,
    }
    response = client.post("/login", data={"username": "ann", "password": "x"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "password"]
    assert client.post("/login", json={"username": "ann"}).status_code == 415


def test_model_from_form(app: App) -> None:
    @app.post("/signup")
    def signup(form: Annotated[Signup, Form()]) -> Signup:
        return form

    client = TestClient(app)
    ok = client.post(
        "/signup",
        data={"email": "a@b.c", "age": "20", "newsletter": "on", "interests": ["owls", "bats"]},
    )
    assert ok.json() == {
        "email": "a@b.c",
        "age": 20,
        "newsletter": True,
        "interests": ["owls", "bats"],
    }
    unticked = client.post("/signup", data={"email": "a@b.c", "age": "20"})
    assert unticked.json()["newsletter"] is False
    bad = client.post("/signup", data={"email": "a@b.c", "age": "9"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "age"]


def test_file_uploads(app: App) -> None:
    @app.post("/upload")
    async def upload(
        file: UploadFile,
        note: Annotated[str, Form()] = "",
        raw: Annotated[bytes | None, File()] = None,
    ) -> dict[str, Any]:
        content = await file.read()
        return {
            "name": file.filename,
            "type": file.content_type,
            "size": len(content),
            "note": note,
            "raw": raw.decode() if raw else None,
        }

    client = TestClient(app)
    response = client.post(
        "/upload",
        files={
            "file": ("owl.txt", b"hoot" * 10, "text/plain"),
            "raw": ("r.bin", b"raw!", "application/octet-stream"),
        },
        data={"note": "hi"},
    )
    assert response.json() == {
        "name": "owl.txt",
        "type": "text/plain",
        "size": 40,
        "note": "hi",
        "raw": "raw!",
    }
    missing = client.post("/upload", data={"note": "hi"}, files={"other": ("x", b"1")})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == ["body", "file"]


def test_multiple_files_and_sync_handler(app: App) -> None:
    @app.post("/many")
    def many(files: list[UploadFile]) -> list[int]:
        return [len(f.file.read()) for f in files]

    response = TestClient(app).post(
        "/many", files=[("files", ("a", b"1")), ("files", ("b", b"22"))]
    )
    assert response.json() == [1, 2]


def test_large_upload_spools_to_disk_not_memory(app: App) -> None:
    @app.post("/big")
    async def big(file: UploadFile) -> dict[str, Any]:
        rolled = getattr(file.file, "_rolled", None)
        data = await file.read()
        return {"size": len(data), "on_disk": rolled}

    payload = b"x" * (3 * 1024 * 1024)
    assert TestClient(app).post("/big", files={"file": ("big.bin", payload)}).json() == {
        "size": len(payload),
        "on_disk": True,
    }


def test_upload_size_limit() -> None:
    app = App(max_upload_size=1000)

    @app.post("/up")
    def up(file: UploadFile) -> int:
        return 1

    response = TestClient(app).post("/up", files={"file": ("f", b"x" * 5000)})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_form_body_size_limit() -> None:
    app = App(max_body_size=50)

    @app.post("/f")
    def f(text: Annotated[str, Form()]) -> str:
        return text

    client = TestClient(app)
    assert client.post("/f", data={"text": "x" * 100}).status_code == 413
    assert client.post("/f", files={"text": (None, b"y" * 100)}).status_code == 413


def test_malformed_forms(app: App) -> None:
    @app.post("/f")
    async def f(request: Request) -> dict[str, Any]:
        form = await request.form()
        return {k: str(v) for k, v in form.items()}

    client = TestClient(app)
    no_boundary = client.post("/f", content=b"x", headers={"content-type": "multipart/form-data"})
    assert no_boundary.status_code == 400
    bad_utf8 = client.post(
        "/f", content=b"a=%ff", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert bad_utf8.status_code == 400
    garbage = client.post(
        "/f",
        content=b"--b\r\nnonsense",
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert garbage.status_code in (400, 422)
    assert client.post(
        "/f", content=b"a=1&b=two", headers={"content-type": "application/x-www-form-urlencoded"}
    ).json() == {"a": "1", "b": "two"}


def _echo_form_app(**options: Any) -> App:
    app = App(**options)

    @app.post("/f")
    async def f(request: Request) -> dict[str, int]:
        form = await request.form()
        return {k: len(v) if isinstance(v, str) else v.size or 0 for k, v in form.items()}

    return app


def test_a_multipart_boundary_over_256_characters_is_a_400_not_a_500() -> None:
    boundary = "b" * 300
    body = f"--{boundary}\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--{boundary}--\r\n"
    with live_client(_echo_form_app()) as client:
        response = client.post(
            "/f",
            content=body.encode(),
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
    assert response.status_code == 400
    assert "boundary" in response.json()["detail"]


def test_a_form_field_one_byte_over_1_mib_is_413_in_both_encodings() -> None:
    limit = 1024 * 1024
    with live_client(_echo_form_app(max_body_size=8 * limit)) as client:
        assert client.post("/f", data={"a": "x" * limit}).json() == {"a": limit}
        urlencoded = client.post("/f", data={"a": "x" * (limit + 1)})
        assert urlencoded.status_code == 413
        assert urlencoded.json()["detail"].startswith("The form field 'a' exceeds 1048576 bytes")
        multipart = client.post("/f", files={"a": (None, b"x" * (limit + 1))})
        assert multipart.status_code == 413
        # Files have their own limit (max_upload_size), not this one.
        upload = client.post("/f", files={"a": ("a.bin", b"x" * (2 * limit))})
        assert upload.json() == {"a": 2 * limit}


def test_the_form_field_limit_is_configurable() -> None:
    client = TestClient(_echo_form_app(max_field_size=10))
    assert client.post("/f", data={"a": "x" * 10}).json() == {"a": 10}
    assert client.post("/f", data={"a": "x" * 11}).status_code == 413
    assert client.post("/f", files={"a": (None, b"x" * 11)}).status_code == 413
