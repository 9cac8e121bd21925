"""tests/in_process_caches.py: each cache returns what the call it stands in for returns."""

import importlib.metadata

import boto3
import jinja2
import pytest
import yaml

from emulator.process import REGION
from tests import in_process_caches

SOURCE = "{{ name }} & {% if yes %}\nyes{% endif %}\n"


def render(environment: jinja2.Environment) -> str:
    return environment.from_string(SOURCE).render(name="<a>", yes=True)


def test_a_second_compile_of_the_same_input_is_not_compiled_again():
    first = jinja2.Environment().compile(SOURCE, "same.yaml")
    assert jinja2.Environment().compile(SOURCE, "same.yaml") is first


@pytest.mark.parametrize(
    "setting",
    [{"autoescape": True}, {"trim_blocks": True}, {"keep_trailing_newline": True}],
    ids=lambda setting: next(iter(setting)),
)
def test_environments_whose_settings_differ_render_as_each_would(setting):
    """Jinja escapes only with autoescape on, drops a block's newline only with trim_blocks,
    and keeps the final newline only with keep_trailing_newline
    (jinja.palletsprojects.com/en/stable/api/#jinja2.Environment)."""
    plain = render(jinja2.Environment())
    assert plain == "<a> & \nyes"
    assert render(jinja2.Environment(**setting)) != plain  # not the plain environment's code
    assert render(jinja2.Environment()) == plain


def test_a_filter_an_environment_lacks_is_still_refused():
    """Jinja refuses a template naming a filter its environment does not have."""
    with_filter = jinja2.Environment()
    with_filter.filters["shout"] = str.upper
    assert with_filter.from_string("{{ 'a' | shout }}").render() == "A"
    with pytest.raises(jinja2.TemplateAssertionError, match="No filter named 'shout'"):
        jinja2.Environment().from_string("{{ 'a' | shout }}")


class Tagged(str):
    """A value built by a constructor added to SafeLoader, as Sceptre adds its resolvers."""


def test_yaml_is_loaded_with_safeloaders_own_constructors():
    yaml.SafeLoader.add_constructor("!tagged", lambda loader, node: Tagged(node.value))
    text = "a: !tagged x\nb: [1, 2.5, true, null, '3']\nc: &c {d: e}\nf: *c\n"
    try:
        loaded = in_process_caches.safe_load(text)
        assert loaded == yaml.safe_load(text)
        assert isinstance(loaded["a"], Tagged)
    finally:
        del yaml.SafeLoader.yaml_constructors["!tagged"]


def test_a_yaml_error_is_the_pure_python_parsers_own():
    """config/config.yaml's errors name their line and column from the parser's marks."""
    text = "a: 1\nb: c: d\n"
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError) as raised:
        in_process_caches.safe_load(text)
    assert str(raised.value) == str(expected.value)
    assert raised.value.problem_mark.buffer == expected.value.problem_mark.buffer


def test_entry_points_are_those_installed():
    """The project's resolvers, as pyproject.toml registers them."""
    found = importlib.metadata.entry_points(group="sceptre.resolvers")
    assert {"vpc_id", "subnet_ids", "image_url"} <= set(found.names)
    assert list(importlib.metadata.entry_points(group="sceptre.resolvers")) == list(found)


def test_clients_of_one_service_call_its_operations(aws_env):
    """Two clients built from the cached methods each call the operation they name: the
    emulator's account answers GetCallerIdentity and ListStacks. (An endpoint given makes
    each client anew: the client cache below leaves such calls alone.)"""
    session = boto3.Session(region_name=REGION)
    first, second = (session.client("sts", endpoint_url=aws_env.url) for _ in range(2))
    assert type(first) is not type(second)  # a class per client, as botocore builds them
    assert first.get_caller_identity()["Account"] == second.get_caller_identity()["Account"]
    assert "StackSummaries" in session.client("cloudformation").list_stacks()
    assert first.get_caller_identity.__name__ == "get_caller_identity"


def test_a_client_asked_for_again_is_the_one_made_unless_its_inputs_changed(aws_env, monkeypatch):
    def client(**credentials):
        return boto3.Session(region_name=REGION, **credentials).client("ecs")

    made = client()
    assert client() is made  # a new Session, as each of Sceptre's plans makes
    assert boto3.Session(region_name="eu-west-1").client("ecs") is not made
    assert client(aws_access_key_id="other", aws_secret_access_key="key") is not made
    # botocore reads AWS_ENDPOINT_URL when it makes a client: a client made after it changes
    # calls the new endpoint (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    moved = client()
    assert moved is not made
    assert moved.meta.endpoint_url == "http://127.0.0.1:1"
    assert made.meta.endpoint_url == aws_env.url


def test_sceptres_config_reader_parses_with_libyaml_and_keeps_the_rest_of_yaml():
    import sceptre.config.reader

    assert sceptre.config.reader.yaml.safe_load is in_process_caches.safe_load
    assert sceptre.config.reader.yaml.SafeLoader is yaml.SafeLoader  # where Sceptre adds tags
    assert yaml.safe_load is not in_process_caches.safe_load  # only Sceptre's reader changed
