"""sclite's alignment of two token sequences, and its rounding.

- alignment costs 0 (correct), 4 (substitution), 3 (insertion, deletion); when
  several moves into a cell cost the same, the diagonal wins, then insertion
  (this settles the Sub/Del/Ins split and even the error count);
- ASCII letters are compared case-insensitively;
- percentages are num/den*100 rounded half away from zero to one decimal.
"""

from local.data.text_norm import visible

CORRECT, SUBSTITUTION, DELETION, INSERTION = "C", "S", "D", "I"
COST_SUBSTITUTION, COST_GAP = 4, 3


def characters(text):
    """The tokens of a transcript: its characters, white space and invisible
    characters (a zero-width space, a byte order mark: no one reads them) removed."""
    return list("".join(visible(text).split()))


def fold_case(token):
    """sclite's default comparison: C tolower() on ASCII letters only."""
    return token.lower() if token.isascii() else token


def align(ref, hyp):
    """sclite's alignment of two token lists: [(op, ref_token, hyp_token)], in order."""
    ref_keys = [fold_case(t) for t in ref]
    hyp_keys = [fold_case(t) for t in hyp]
    rows, cols = len(ref), len(hyp)
    cost = [[0] * (cols + 1) for _ in range(rows + 1)]
    move = [[INSERTION] * (cols + 1) for _ in range(rows + 1)]
    for b in range(1, cols + 1):
        cost[0][b] = cost[0][b - 1] + COST_GAP
    for a in range(1, rows + 1):
        cost[a][0] = cost[a - 1][0] + COST_GAP
        move[a][0] = DELETION
        above, here = cost[a - 1], cost[a]
        for b in range(1, cols + 1):
            diagonal = above[b - 1] + (
                0 if ref_keys[a - 1] == hyp_keys[b - 1] else COST_SUBSTITUTION
            )
            deletion = above[b] + COST_GAP
            insertion = here[b - 1] + COST_GAP
            if diagonal <= deletion and diagonal <= insertion:
                here[b], move[a][b] = diagonal, SUBSTITUTION
            elif deletion < insertion:
                here[b], move[a][b] = deletion, DELETION
            else:
                here[b], move[a][b] = insertion, INSERTION
    path, a, b = [], rows, cols
    while a > 0 or b > 0:
        step = move[a][b]
        if step == SUBSTITUTION:
            same = ref_keys[a - 1] == hyp_keys[b - 1]
            path.append((CORRECT if same else SUBSTITUTION, ref[a - 1], hyp[b - 1]))
            a, b = a - 1, b - 1
        elif step == DELETION:
            path.append((DELETION, ref[a - 1], None))
            a -= 1
        else:
            path.append((INSERTION, None, hyp[b - 1]))
            b -= 1
    return path[::-1]


def percent(num, den):
    return 0.0 if den == 0 else num / den * 100.0


def sclite_round(x, digits=1):
    """sclite's F_ROUND: half away from zero on x * 10**digits, truncating like C's (int)."""
    scale = 10.0**digits
    return float(int(x * scale + (0.5 if x > 0 else -0.5))) / scale
