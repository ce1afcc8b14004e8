import widthdesign as wd


def test_import_does_not_pull_matplotlib():
    import subprocess
    import sys

    code = "import sys, widthdesign; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_public_api_names_exist():
    for name in wd.__all__:
        assert hasattr(wd, name), name
