mod cli_repr;
mod numerics;
