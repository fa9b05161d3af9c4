"""The user's own ``import tensorflow`` after ``import cnnlive`` writes
nothing to stderr (TensorFlow's start-up lines go to the
``cnnlive.tensorflow`` logger), ``import cnnlive`` loads no TensorFlow, and a
``TF_CPP_MIN_LOG_LEVEL`` the user set is kept."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

USER = """
import logging, os, sys
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.getMessage())
logging.getLogger("cnnlive.tensorflow").addHandler(Keep())
logging.getLogger("cnnlive.tensorflow").setLevel(logging.INFO)
import cnnlive
assert "tensorflow" not in sys.modules
import tensorflow as tf
print(int(tf.reduce_sum(tf.constant([1, 2]))), os.environ["TF_CPP_MIN_LOG_LEVEL"], len(records) > 0)
"""


def _run(env):
    return subprocess.run([sys.executable, "-c", USER], capture_output=True, text=True, env=env, timeout=300)


def test_the_users_tensorflow_import_writes_no_stderr():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = _run(env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    # cnnlive's default level; the absl/oneDNN/CUDA lines were logged instead of printed
    assert done.stdout.split() == ["3", "2", "True"], done.stdout


def test_a_level_the_user_set_is_kept():
    done = _run(dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["3", "3"], done.stdout
    assert done.stderr == ""
