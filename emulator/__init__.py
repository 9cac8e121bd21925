"""Local AWS emulator: test infrastructure, not part of what users deploy.

server.py, fidelity.py and seed.py run in the emulator's own virtual environment
(.venv-emulator, moto pinned in emulator/requirements.txt); process.py runs in the
project's environment and only starts and stops that server.
"""
