"""Tables: typed columns, one-hot categories learned on train, missing values, string labels,
DataFrames through from_frame with the rules of the TOML path."""

import numpy as np
import pytest

from honed.data import LabelEncoder, TableEncoder, from_frame, read_table
from honed.data.tables import RowNames

pd = pytest.importorskip("pandas")


def _frame():
    return pd.DataFrame(
        {
            "size": [1.0, 2.0, np.nan, 4.0, 5.0],
            "colour": ["red", "blue", "red", None, "green"],
            "ok": [True, False, True, True, False],
            "year": [2007, 2008, 2007, 2009, 2008],
            "label": ["cat", "dog", "cat", "bird", "dog"],
        }
    )


def test_encoder_states_exactly_its_transformation():
    frame = _frame().drop(columns="label")
    enc = TableEncoder.fit(frame, categorical=["year"], missing="impute")
    assert enc.kinds == ["number", "category", "category", "category"]
    assert enc.categories == [
        [],
        ["blue", "green", "red"],
        ["False", "True"],
        ["2007", "2008", "2009"],
    ]
    assert enc.fill_numbers[0] == 3.0  # median of 1, 2, 4, 5
    assert enc.fill_categories[1] == "red"  # the most frequent
    X = enc.transform(frame)
    assert enc.output_names() == [
        "size", "colour=blue", "colour=green", "colour=red", "ok=False", "ok=True",
        "year=2007", "year=2008", "year=2009",
    ]  # fmt: skip
    np.testing.assert_array_equal(X[2], [3.0, 0, 0, 1, 0, 1, 1, 0, 0])  # size imputed
    np.testing.assert_array_equal(X[3], [4.0, 0, 0, 1, 0, 1, 0, 0, 1])  # colour imputed
    again = TableEncoder.from_state_dict(enc.state_dict())
    np.testing.assert_array_equal(again.transform(frame[list(reversed(frame.columns))]), X)


def test_unseen_category_is_refused_naming_column_and_value_or_ignored():
    frame = _frame().drop(columns="label").dropna()
    enc = TableEncoder.fit(frame)
    new = frame.iloc[:1].assign(colour="purple")
    with pytest.raises(ValueError, match=r"column 'colour': category 'purple' was not in the"):
        enc.transform(new)
    enc.unknown = "ignore"
    assert enc.transform(new)[0, 1:4].tolist() == [0, 0, 0]


def test_missing_values_are_refused_naming_row_and_column():
    frame = _frame().drop(columns="label")
    enc = TableEncoder.fit(frame)
    with pytest.raises(ValueError, match=r"row 2, column 'size': missing value"):
        enc.transform(frame)
    # a file's rows are named by line (here the first example is line 2, under the header)
    where = RowNames("f.csv", 2)
    with pytest.raises(ValueError, match=r"f.csv: line 4, column 'size': missing value"):
        enc.transform(frame, where=where)
    assert [where.row(p) for p in (0, 3)] == ["line 2", "line 5"]
    assert where.subset([3, 0]).names == ["line 5", "line 2"]


def test_label_encoder_keeps_names_and_orders_numbers_numerically():
    assert LabelEncoder.fit(pd.Series(["dog", "cat", "dog"]), "y", "t").classes == ["cat", "dog"]
    assert LabelEncoder.fit(pd.Series([10, 2, 1]), "y", "t").classes == ["1", "2", "10"]


def test_from_frame_gives_named_classes_and_the_encoder():
    ds, enc = from_frame(_frame(), target="label", missing="impute")
    assert ds.class_names == ("bird", "cat", "dog")
    assert ds.y.tolist() == [1, 2, 1, 0, 2]
    assert ds.X.shape == (5, enc.n_outputs) and ds.X.dtype == np.float32


def test_from_frame_never_makes_a_float_target_into_classes():
    frame = pd.DataFrame({"x": np.arange(20.0), "y": np.linspace(0, 1, 20) + 0.05})
    with pytest.raises(ValueError, match=r'holds real numbers.*data.task = "regression"'):
        from_frame(frame, target="y")
    ints = pd.DataFrame({"x": np.arange(300.0), "y": np.arange(300)})  # 300 distinct integers
    with pytest.raises(ValueError, match=r'300 distinct values.*data.task = "regression"'):
        from_frame(ints, target="y")
    ds, _ = from_frame(frame, target="y", task="regression")
    assert ds.y.dtype == np.float64 and ds.y.shape == (20, 1) and not ds.is_classification


def test_read_table_csv_and_parquet_agree(tmp_path):
    frame = _frame().dropna()
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    a = read_table(tmp_path / "t.csv", target="label")
    b = read_table(tmp_path / "t.parquet", target="label")
    ra, rb = a.index_dataset(), b.index_dataset()
    (xa, enc_a), (xb, _) = a.encode(ra), b.encode(rb)
    np.testing.assert_array_equal(xa.X, xb.X)
    assert xa.class_names == xb.class_names == ("cat", "dog")
    assert enc_a.columns == ["size", "colour", "ok", "year"]


def test_a_text_cell_in_a_number_column_names_line_and_column(tmp_path):
    path = tmp_path / "typo.csv"
    path.write_text("a,b,y\n1,2,0\n3,4,1\n5,x,0\n7,8,1\n")
    table = read_table(path, target="y")
    with pytest.raises(ValueError, match=r"typo.csv: line 4, column 'b': text 'x' where a number"):
        table.encode(table.index_dataset())


def test_a_column_of_identifiers_is_warned_about():
    from honed.data import DataWarning

    frame = pd.DataFrame({"id": [f"p{i}" for i in range(80)], "x": range(80), "y": [0, 1] * 40})
    with pytest.warns(DataWarning, match=r"column 'id' has 80 distinct values in 80 training"):
        from_frame(frame, target="y")


def test_prepare_missing_refuses_an_unknown_mode(tmp_path):
    from honed.data.tables import prepare_missing

    _frame().to_csv(tmp_path / "t.csv", index=False)
    table = read_table(tmp_path / "t.csv", target="label")
    with pytest.raises(ValueError, match=r"missing must be .*got 'Drop'"):
        prepare_missing(table, "Drop")
    with pytest.warns(UserWarning, match="2 rows with a missing value dropped"):
        prepare_missing(table, "drop")  # the real modes still work
    assert len(table.features) == 3
