"""honed as scikit-learn estimators (the ``sklearn`` extra: ``pip install 'honed[sklearn]'``).

    estimators.py  HonedClassifier, HonedRegressor: an experiment's model and training as
                   estimators
    search.py      PopulationSearchCV: RandomizedSearchCV's interface, every candidate × fold
                   trained as one population

Example::

    from sklearn.datasets import load_digits
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from honed.sklearn import HonedClassifier

    X, y = load_digits(return_X_y=True)
    model = make_pipeline(StandardScaler(), HonedClassifier(hidden=[64], epochs=40))
    cross_val_score(model, X, y, cv=5).mean()        # ≈ 0.97

scikit-learn is imported here only, never by honed's core.
"""

try:
    import sklearn  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("honed.sklearn needs scikit-learn: pip install 'honed[sklearn]'") from err

from honed.sklearn.estimators import HonedClassifier, HonedRegressor
from honed.sklearn.search import HonedScale, PopulationSearchCV

__all__ = ["HonedClassifier", "HonedRegressor", "HonedScale", "PopulationSearchCV"]
