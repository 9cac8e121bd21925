"""One botocore data loader for the whole emulator process, instead of one per session.

botocore reads its service models, endpoints and paginators from the JSON files it ships,
through a Loader that caches what it read; before loading a service's model the Loader
lists every service's data folder (about 400 folders, thousands of stat calls). moto 5.2.5
makes a new Loader for each model it loads (moto/core/utils.py ``_load_service_model``),
and every boto3 Session the emulator makes of itself (drift.py's readers, seeding) makes
another: measured here, a ``drift-check dev`` cost the emulator 3.5 s of CPU, of which
2.2 s went to listing and re-parsing those files; with one shared Loader, 1.3 s.

The Loader only caches files of the installed botocore, so sharing it changes no answer.
The test process shares one too (conftest.py, share_in_sessions): its fixtures and
in-process Sceptre runs make a Session each.

Likewise moto's list of its service folders: moto 5.2.5's server lists its package folder
and stats each of its 200 entries on every request, to learn whether the request's host
names a service (``moto_server/werkzeug_app.py``, ``get_backend_for_host``): a tenth of the
emulator's CPU in a launch and drift detection. The installed package does not change while
the emulator runs, so the list is read once.

And the names of a response class's methods: moto 5.2.5 lists them with
``inspect.getmembers`` on every request, to learn whether the class answers the request's
action (``BaseResponse.call_action``): a fortieth of the emulator's CPU in a whole test run,
measured with py-spy. The layer patches those classes when it is installed, before the first
request, so each class's list is made once, on its first request.

Seams: ``botocore.session.create_loader`` (what a new Session calls),
``moto.core.utils.create_loader`` (moto's own reference to it),
``moto.backends.list_of_moto_modules`` and ``moto.core.responses.method_names_from_class``.
"""

import functools

import botocore.loaders
import botocore.session

_create_loader = botocore.loaders.create_loader


@functools.cache
def _loader(search_path_string: str | None) -> botocore.loaders.Loader:
    return _create_loader(search_path_string)


def shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    """botocore's ``create_loader``, but one Loader per data path (None: botocore's own)."""
    return _loader(search_path_string)


def share_in_sessions() -> None:
    """Make every botocore Session created from now on use one Loader per data path (also
    useful in the test process, whose fixtures and in-process Sceptre runs make a Session
    each: 0.3 s of CPU for three clients, 0.1 s with the shared Loader)."""
    botocore.session.create_loader = shared_loader


def install() -> None:
    """In the emulator: every new botocore Session, and moto, use one Loader per data path,
    and moto lists its service folders, and each response class's methods, once. Idempotent."""
    import moto.backends  # the emulator's environment only
    import moto.core.responses
    import moto.core.utils

    share_in_sessions()
    moto.core.utils.create_loader = shared_loader
    if not getattr(moto.backends.list_of_moto_modules, "_emulator", False):
        listed = tuple(moto.backends.list_of_moto_modules())
        once = functools.wraps(moto.backends.list_of_moto_modules)(lambda: listed)
        once._emulator = True
        moto.backends.list_of_moto_modules = once
    method_names = moto.core.responses.method_names_from_class
    if not hasattr(method_names, "cache_info"):
        moto.core.responses.method_names_from_class = functools.cache(method_names)
