package runtime

import "strings"

// nearest returns the candidate closest to s by edit distance, or "" when
// none is close enough to be a plausible typo (more than a third of the
// longer word differs).
func nearest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	longer := max(len(s), len(best))
	if bestD*3 > longer {
		return ""
	}
	return best
}

// didYouMean is " (did you mean "x"?)" or "".
func didYouMean(s string, candidates []string) string {
	if n := nearest(s, candidates); n != "" {
		return ` (did you mean "` + n + `"?)`
	}
	return ""
}

// editDistance is the optimal-string-alignment distance between a and b:
// Levenshtein plus adjacent transpositions, the commonest typo ("nmae").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
