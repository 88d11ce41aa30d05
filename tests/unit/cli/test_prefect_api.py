"""cli.prefect_api: the settings the ephemeral API's server gets."""

from __future__ import annotations

from cli.prefect_api import EPHEMERAL_SERVER_ENV, ephemeral_server_env


def test_the_ephemeral_server_skips_the_block_catalogue_unless_the_user_says_otherwise() -> None:
    assert ephemeral_server_env({"PATH": "/bin"}) == {"PATH": "/bin", **EPHEMERAL_SERVER_ENV}
    assert set(EPHEMERAL_SERVER_ENV.values()) == {"false"}
    mine = {
        "PREFECT_SERVER_REGISTER_BLOCKS_ON_START": "true",  # today's name
        "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "true",  # the older one
    }
    assert ephemeral_server_env(mine) == mine
