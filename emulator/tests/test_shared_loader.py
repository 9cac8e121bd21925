"""emulator/shared_loader.py: one botocore Loader per emulator process, the same answers.

Run in the emulator's own Python (the project's has no moto).
"""

import json
import subprocess

from emulator.process import EMULATOR_PYTHON, ROOT

CHECK = """
import json
import boto3
import moto.core.utils
from emulator import shared_loader

def loader():
    return boto3.Session(region_name="us-east-1")._session.get_component("data_loader")

before = loader() is loader()
shared_loader.install()
first, second = loader(), loader()
model = moto.core.utils._load_service_model("ecs", "service-2")
from moto.core import responses
from moto.ecs.responses import EC2ContainerServiceResponse as Ecs
names = responses.method_names_from_class(Ecs)
print(json.dumps({
    "before": before,
    "shared": first is second,
    "moto_shares_it": moto.core.utils.create_loader() is first,
    "ecs_operations": len(model["operations"]),
    "ecs_actions_listed_once": names is responses.method_names_from_class(Ecs),
    "ecs_answers_describe_services": "describe_services" in names,
    "client": boto3.Session(region_name="us-east-1").client("ecs").meta.service_model.service_name,
}))
"""


def test_sessions_and_moto_share_one_loader_and_still_load_every_model():
    """And moto lists a response class's actions once (DescribeServices is an ECS action:
    docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html)."""
    ran = subprocess.run(
        [str(EMULATOR_PYTHON), "-c", CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = json.loads(ran.stdout)
    assert found["before"] is False  # botocore's own behaviour: a Loader per Session
    assert found["shared"] and found["moto_shares_it"]
    # ECS's API has dozens of operations (docs.aws.amazon.com/AmazonECS/latest/APIReference/
    # API_Operations.html): the shared Loader loads the whole model.
    assert found["ecs_operations"] > 50
    assert found["client"] == "ecs"
    assert found["ecs_actions_listed_once"] and found["ecs_answers_describe_services"]
