"""Model server pieces without the sandbox: the containers' codecs, the XGBoost and
scikit-learn handlers, the submit-directory mapping and the server process's lifetime."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from mlops_seeds.sandbox.hosting import codecs, endpoints, handlers, processes
from mlops_seeds.sandbox.hosting import sklearn_container as sk
from mlops_seeds.sandbox.hosting import xgboost_container as xg
from mlops_seeds.sandbox.hosting.codecs import ModelServerError


@pytest.fixture
def booster_dir(tmp_path: Path) -> Path:
    x = np.arange(40, dtype=float).reshape(10, 4)
    booster = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(x, label=x.sum(1)), 3)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "xgboost-model").write_bytes(bytes(booster.save_raw(raw_format="ubj")))
    return model_dir


def test_csv_encoding_puts_one_prediction_per_line() -> None:
    assert codecs.array_to_csv(np.array([0.5, 2.0])) == b"0.5\n2.0\n"
    assert codecs.array_to_csv([[1, 2], [3, 4]]) == b"1,2\n3,4\n"


def test_csv_decoding_squeezes_a_single_row() -> None:
    assert codecs.csv_to_array(b"1,2,3\n").shape == (3,)
    assert codecs.csv_to_array("1,2\n3,4\n").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(ModelServerError) as caught:
        codecs.csv_to_array(b"1,2\n3\n")
    assert caught.value.status == 400


def test_unsupported_types_are_415_and_406() -> None:
    with pytest.raises(ModelServerError) as decoding:
        codecs.decode(b"x", "text/plain")
    with pytest.raises(ModelServerError) as encoding:
        codecs.encode([1.0], "text/html")
    assert (decoding.value.status, encoding.value.status) == (415, 406)


def test_xgboost_algorithm_mode_reads_csv_and_libsvm_alike(booster_dir: Path) -> None:
    handler = xg.load(booster_dir, {})

    dense = handler.invoke(b"1,2,3,4\n5,6,7,8", "text/csv", "")
    sparse = handler.invoke(b"0 0:1 1:2 2:3 3:4\n0 0:5 1:6 2:7 3:8", "", "text/csv")

    assert dense == sparse
    assert dense.content_type == "text/csv; charset=utf-8"
    assert len(dense.body.split()) == 2


def test_xgboost_algorithm_mode_answers_like_the_container(booster_dir: Path) -> None:
    handler = xg.load(booster_dir, {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/json"})

    reply = handler.invoke(b"1,2,3,4", "text/csv", "*/*")

    assert list(json.loads(reply.body)) == ["predictions"]
    for body, content_type, accept, status in (
        (b"", "text/csv", "", 204),
        (b"[1, 2]", "application/json", "", 415),
        (b"1,2,3,4", "text/csv", "application/x-recordio-protobuf", 406),
        (b"1,x,3,4", "text/csv", "", 415),
    ):
        with pytest.raises(ModelServerError) as caught:
            handler.invoke(body, content_type, accept)
        assert caught.value.status == status


def test_xgboost_model_dir_without_a_booster_cannot_start(tmp_path: Path) -> None:
    with pytest.raises(handlers.StartError, match="is empty"):
        xg.load(tmp_path, {})
    (tmp_path / "xgboost-model").write_bytes(b"")
    with pytest.raises(handlers.StartError, match="empty file"):
        xg.load(tmp_path, {})
    (tmp_path / "xgboost-model").write_bytes(b"junk")
    with pytest.raises(handlers.StartError, match="cannot be loaded as an XGBoost model"):
        xg.load(tmp_path, {})


def write_script(model_dir: Path, source: str) -> dict[str, str]:
    code = model_dir / "code"
    code.mkdir(exist_ok=True)
    (code / "serve_me.py").write_text(textwrap.dedent(source))
    return {"SAGEMAKER_PROGRAM": "serve_me.py", "SAGEMAKER_SUBMIT_DIRECTORY": str(code)}


def test_sklearn_script_mode_fills_in_the_containers_defaults(tmp_path: Path) -> None:
    env = write_script(
        tmp_path,
        """
        class Doubler:
            def predict(self, x):
                return x * 2

        def model_fn(model_dir):
            return Doubler()
        """,
    )
    handler = sk.load(tmp_path, env)

    reply = handler.invoke(b"1,2\n3,4\n", "text/csv", "")

    assert reply == handlers.Reply(b"[[2.0, 4.0], [6.0, 8.0]]", "application/json")
    with pytest.raises(ModelServerError) as caught:
        handler.invoke(b"1,2", "text/csv", "text/html")
    assert caught.value.status == 406


def test_a_user_output_fn_chooses_the_content_type(tmp_path: Path) -> None:
    env = write_script(
        tmp_path,
        """
        def model_fn(model_dir):
            return None

        def predict_fn(data, model):
            return data.sum()

        def output_fn(prediction, accept):
            return f"total={prediction}", "text/plain"
        """,
    )

    reply = sk.load(tmp_path, env).invoke(b"[1, 2, 3]", "application/json", "text/csv")

    assert reply == handlers.Reply(b"total=6.0", "text/plain")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def input_fn(body, content_type):\n    return body\n", "model_fn"),
        ("def transform_fn(*args):\n    return None\n", "transform_fn is not supported"),
    ],
)
def test_scripts_the_container_would_refuse_cannot_start(
    tmp_path: Path, source: str, message: str
) -> None:
    env = write_script(tmp_path, source)

    with pytest.raises(handlers.StartError, match=message):
        sk.load(tmp_path, env)


def test_scikit_learn_needs_a_program(tmp_path: Path) -> None:
    with pytest.raises(handlers.StartError, match="SAGEMAKER_PROGRAM is not set"):
        sk.load(tmp_path, {})
    with pytest.raises(handlers.StartError, match="does not exist"):
        sk.load(tmp_path, {"SAGEMAKER_PROGRAM": "missing.py"})


def test_submit_directory_moves_under_the_extracted_model(tmp_path: Path) -> None:
    env = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}

    local = endpoints.local_environment(env, tmp_path / "model", tmp_path)

    assert local["SAGEMAKER_SUBMIT_DIRECTORY"] == str(tmp_path / "model" / "code")
    with pytest.raises(endpoints.DeployError, match="must be under /opt/ml/model"):
        endpoints.local_environment({"SAGEMAKER_SUBMIT_DIRECTORY": "/srv/code"}, tmp_path, tmp_path)


def test_model_server_serves_ping_and_invocations(booster_dir: Path, tmp_path: Path) -> None:
    directory = tmp_path / "server"
    directory.mkdir()
    server = processes.start("xgboost", booster_dir, directory, {"AWS_SECRET_ACCESS_KEY": "x"})
    try:
        answer = server.invoke(b"1,2,3,4", "text/csv", None, None)
        refused = server.invoke(b"1,2,3,4", "application/json", None, None)
    finally:
        server.stop()

    assert (answer.status, answer.content_type) == (200, "text/csv; charset=utf-8")
    assert refused.status == 415
    assert not server.running()
    assert server not in processes.live()


def test_model_server_answers_only_the_sandbox(booster_dir: Path, tmp_path: Path) -> None:
    directory = tmp_path / "server"
    directory.mkdir()
    server = processes.start("xgboost", booster_dir, directory, {})
    port, good = server.port, {processes.TOKEN_HEADER: server.token}
    try:
        answers = {
            "no token": _status(port, "POST", "/invocations", {}),
            "wrong token": _status(port, "GET", "/ping", {processes.TOKEN_HEADER: "guess"}),
            "foreign host": _status(port, "GET", "/ping", {**good, "Host": "evil.example"}),
            "the sandbox": _status(port, "GET", "/ping", good),
        }
    finally:
        server.stop()

    assert answers == {"no token": 403, "wrong token": 403, "foreign host": 403, "the sandbox": 200}


def _status(port: int, method: str, path: str, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection(processes.HOST, port, timeout=10)
    try:
        connection.request(
            method, path, body=b"1,2,3,4" if method == "POST" else None, headers=headers
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_an_exception_in_the_users_code_is_a_500(tmp_path: Path) -> None:
    model_dir, directory = tmp_path / "model", tmp_path / "server"
    model_dir.mkdir()
    directory.mkdir()
    env = write_script(
        model_dir,
        """
        def model_fn(model_dir):
            return None

        def predict_fn(data, model):
            raise RuntimeError("the model fell over")
        """,
    )
    server = processes.start("sklearn", model_dir, directory, env)
    try:
        answer = server.invoke(b"1,2", "text/csv", "text/csv", None)
    finally:
        server.stop()

    assert (answer.status, answer.body) == (500, b"RuntimeError: the model fell over")


def test_model_server_exits_with_its_parent(booster_dir: Path, tmp_path: Path) -> None:
    """A sandbox killed outright leaves no model server behind."""
    directory = tmp_path / "server"
    directory.mkdir()
    launcher = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from mlops_seeds.sandbox.hosting import processes
        model, directory = Path({str(booster_dir)!r}), Path({str(directory)!r})
        server = processes.start("xgboost", model, directory, {{}})
        print(server.process.pid, flush=True)
        sys.stdin.read()
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", launcher], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()

    deadline = time.monotonic() + 30
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(child)


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return status != "Z"
