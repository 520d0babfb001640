from benchmarks.bench_folder import main


def test_folder_and_array_fits_are_measured(tmp_path):
    rows = main(["--sizes", "48", "--array-sizes", "48", "--root", str(tmp_path)])
    assert [r["input"] for r in rows] == ["array", "folder"]
    assert len(list((tmp_path / "48").glob("*.png"))) == 48
    for r in rows:
        assert r["images_per_s"] > 0 and r["fit_s"] > 0 and r["peak_growth_mib"] >= 0
