"""One error hierarchy: user errors carry their HTTP status; the CLI catches those and nothing else."""

from __future__ import annotations

import pytest
import typer
from pydantic import BaseModel, Field, ValidationError

from xmodal.cli import user_errors
from xmodal.encoders import MediaError, UnsupportedModality
from xmodal.errors import Conflict, Invalid, NotFound, Unavailable, XmodalError, validation_message
from xmodal.search import ItemNotFound, QueryError
from xmodal.store import StoreError, StoreNotFound
from xmodal.store.keyword import KeywordSearchUnavailable


def test_the_old_names_are_kinds_of_the_new_ones() -> None:
    assert issubclass(ItemNotFound, NotFound) and issubclass(ItemNotFound, LookupError)
    for invalid in (QueryError, MediaError, UnsupportedModality):
        assert issubclass(invalid, Invalid) and issubclass(invalid, ValueError)
    assert issubclass(StoreError, Conflict) and issubclass(KeywordSearchUnavailable, Unavailable)
    statuses = [
        kind.status for kind in (NotFound, Conflict, Invalid, Unavailable, StoreNotFound, KeywordSearchUnavailable)
    ]
    assert statuses == [404, 409, 422, 503, 404, 503]


class Shape(BaseModel):
    k: int = Field(ge=1)
    name: str


def test_validation_problems_read_as_one_line() -> None:
    with pytest.raises(ValidationError) as caught:
        Shape(k=0)
    assert validation_message(caught.value.errors()) == (
        "k: Input should be greater than or equal to 1; name: Field required"
    )
    renamed = validation_message(caught.value.errors(), lambda where: f"--{where}")
    assert renamed.startswith("--k: Input should be") and "; --name: Field required" in renamed
    assert validation_message([{"loc": (), "msg": "give exactly one"}]) == "give exactly one"


def test_the_cli_turns_user_errors_into_exit_2_and_lets_bugs_through(capsys) -> None:
    with pytest.raises(typer.Exit) as exited, user_errors():
        raise StoreNotFound("no xmodal store at /nowhere")
    assert exited.value.exit_code == 2 and "no xmodal store at /nowhere" in capsys.readouterr().err
    for bug in (ValueError("a bug"), TypeError("another"), KeyError("a third")):
        with pytest.raises(type(bug)), user_errors():
            raise bug
    assert isinstance(XmodalError("x"), Exception)
