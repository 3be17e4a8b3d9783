//! The five seed articles, embedded so that `storyhash cluster` with no input shows a
//! real report on a fresh machine. The files are `testdata/seeds/` in the repository.

/// (id, text) of each seed article, in file-name order.
pub const SEEDS: [(&str, &str); 5] = [
    (
        "000_06492c2b52d2f1b0",
        include_str!("../../../testdata/seeds/000_06492c2b52d2f1b0.txt"),
    ),
    (
        "001_bb00997dd8f01e8a",
        include_str!("../../../testdata/seeds/001_bb00997dd8f01e8a.txt"),
    ),
    (
        "002_326bea3903292d52",
        include_str!("../../../testdata/seeds/002_326bea3903292d52.txt"),
    ),
    (
        "003_17bceafa204b5619",
        include_str!("../../../testdata/seeds/003_17bceafa204b5619.txt"),
    ),
    (
        "004_883a00e972f11a53",
        include_str!("../../../testdata/seeds/004_883a00e972f11a53.txt"),
    ),
];
