"""`xmodal index --ray [ADDRESS]`: a bare --ray is told apart from one followed by an address."""

from xmodal.cli import _bare_ray_flag


def test_a_bare_ray_flag_gets_the_default_and_an_address_is_kept() -> None:
    assert _bare_ray_flag(["index", "--ray", "/data/photos"]) == ["index", "--ray=default", "/data/photos"]
    assert _bare_ray_flag(["index", "photos", "--ray"]) == ["index", "photos", "--ray=default"]
    assert _bare_ray_flag(["index", "--ray", "--prune", "x"]) == ["index", "--ray=default", "--prune", "x"]
    for address in ("head:6379", "ray://head.example:10001", "10.0.0.5:6379", "auto"):
        assert _bare_ray_flag(["index", "--ray", address, "x"]) == ["index", "--ray", address, "x"]
    assert _bare_ray_flag(["index", "--ray=head:6379", "x"]) == ["index", "--ray=head:6379", "x"]
