"""What the numbers mean: digits, conditioning, verdicts, sweeps, the answer in words."""
