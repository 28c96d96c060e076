"""A sign-up form: server-rendered, validated by a pydantic model, protected against CSRF.

Run it with ``python examples/signup/app.py`` and open http://127.0.0.1:8000/signup.

- ``GET /signup`` shows the form, rendered from ``SignupForm`` by ``{{ form.render() }}``.
- ``POST /signup`` validates it: with errors, the form comes back with each field's
  messages and what was typed; when valid, a flash message greets you after a redirect.
- ``GET /accounts`` is an HTML page for browsers and JSON for API clients.
- ``POST /api/signup`` takes the same form from API clients, answering a JSON 422.
- A missing page is ``templates/404.html`` for browsers, a JSON problem for API clients.
"""

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from nightowl import (
    App,
    Depends,
    Form,
    HTMLResponse,
    HTTPException,
    RedirectResponse,
    Request,
    flash,
    redirect,
    render,
)
from nightowl.negotiation import negotiate
from nightowl.templating.forms import ModelForm

app = App(
    templates=Path(__file__).parent / "templates",
    secret_key="an-example-key-use-a-long-random-one-in-production",
)


class Plan(StrEnum):
    """The plans one can sign up for."""

    free = "free"
    pro = "pro"
    team = "team"


def check_email(value: str) -> str:
    """A light check; ``pydantic.EmailStr`` (with email-validator installed) does more."""
    local, _, domain = value.partition("@")
    if not local or "." not in domain.strip("."):
        raise ValueError("Enter an email address with a domain, like ada@example.com.")
    return value.lower()


class SignupForm(BaseModel):
    """What the sign-up form asks for."""

    name: str = Field(min_length=2, max_length=40)
    email: Annotated[str, AfterValidator(check_email)] = Field(max_length=100)
    password: str = Field(min_length=8, max_length=128, description="At least 8 characters.")
    age: int | None = Field(default=None, ge=13, le=130)
    plan: Plan = Plan.free
    birthday: date | None = None
    newsletter: bool = False
    terms: Literal[True] = Field(title="I accept the terms")


class Account(BaseModel):
    """An account, as the API shows it (no password)."""

    name: str
    email: str
    plan: Plan


ACCOUNTS: dict[str, Account] = {}


@app.get("/")
def home(request: Request) -> HTMLResponse:
    """The home page, where the welcome message is flashed."""
    return render("home.html", request)


@app.get("/signup")
def signup_page(request: Request) -> HTMLResponse:
    """A blank sign-up form."""
    return render("signup.html", request, form=ModelForm(SignupForm, request))


@app.post("/signup")
async def signup(
    request: Request,
    form: Annotated[ModelForm[SignupForm], Depends(ModelForm.posted(SignupForm))],
) -> HTMLResponse | RedirectResponse:
    """Create the account, or show the form again with its errors."""
    if form.valid and form.data.email in ACCOUNTS:
        form.add_error("email", "An account with this email already exists.")
    if not form.valid:
        return render("signup.html", request, form=form, status_code=form.status_code)
    data = form.data
    ACCOUNTS[data.email] = Account(name=data.name, email=data.email, plan=data.plan)
    flash(request, f"Welcome, {data.name}! Your {data.plan.value} account is ready.", "success")
    return redirect(request.url_for("home"), status_code=303)


@app.get("/accounts")
def accounts(request: Request):
    """The accounts: an HTML table for browsers, a JSON list for API clients."""
    found = list(ACCOUNTS.values())
    return negotiate(
        request, html=lambda: render("accounts.html", request, accounts=found), json=found
    )


@app.post("/api/signup", status_code=201)
def api_signup(data: Annotated[SignupForm, Form()]) -> Account:
    """The same form for API clients: invalid input is a JSON 422 problem."""
    if data.email in ACCOUNTS:
        raise HTTPException(409, "An account with this email already exists.")
    account = ACCOUNTS[data.email] = Account(name=data.name, email=data.email, plan=data.plan)
    return account


if __name__ == "__main__":
    app.run(debug=True)
