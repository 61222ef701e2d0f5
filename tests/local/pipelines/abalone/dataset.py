"""A made-up abalone dataset (the real one is a download): shared by the tests and the
benchmark."""

import numpy as np


def abalone_csv(rows: int = 600) -> str:
    """A made-up abalone dataset: rings grow with the shell weight and the size."""
    rng = np.random.default_rng(11)
    length = rng.uniform(0.1, 0.8, rows)
    diameter = length * rng.uniform(0.7, 0.85, rows)
    height = length * rng.uniform(0.2, 0.3, rows)
    whole = length**3 * rng.uniform(1.5, 2.5, rows)
    shell = whole * rng.uniform(0.25, 0.35, rows)
    rings = np.clip(np.round(3 + 14 * length + 20 * shell + rng.normal(0, 1, rows)), 1, 29)
    sex = rng.choice(["M", "F", "I"], rows)
    lines = ["sex,length,diameter,height,whole_weight,shell_weight,rings"]
    for i in range(rows):
        lines.append(
            f"{sex[i]},{length[i]:.3f},{diameter[i]:.3f},{height[i]:.3f},"
            f"{whole[i]:.4f},{shell[i]:.4f},{int(rings[i])}"
        )
    return "\n".join(lines) + "\n"
