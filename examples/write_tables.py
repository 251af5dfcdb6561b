"""Write the two tables of the "Your own data" examples into the current directory.

    python examples/write_tables.py      # penguins.csv, diabetes.csv
    honed train examples/penguins.toml   # string labels, categories, missing values
    honed train examples/diabetes.toml   # regression

penguins.csv is the file the ``palmerpenguins`` package ships, copied byte for byte (344
penguins: string species, island and sex, "NA" where a value is missing). diabetes.csv is
scikit-learn's diabetes data (442 patients, 10 measurements, the disease progression a year
later as the target) in its original units.
"""

import shutil
from importlib import resources


def main() -> None:
    shutil.copyfile(resources.files("palmerpenguins") / "data" / "penguins.csv", "penguins.csv")
    from sklearn.datasets import load_diabetes

    load_diabetes(as_frame=True, scaled=False).frame.to_csv("diabetes.csv", index=False)
    print("wrote penguins.csv and diabetes.csv")


if __name__ == "__main__":
    main()
