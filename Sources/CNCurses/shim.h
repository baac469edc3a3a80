#ifndef NEARCAIPI_CNCURSES_SHIM_H
#define NEARCAIPI_CNCURSES_SHIM_H

// SwiftPM does not pass pkg-config's -D flags to the Clang importer, so the wide-character
// API (cchar_t, add_wch, wide strings, extended colour pairs) is switched on here.
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif

#include <locale.h>
#include <stdio.h>
#include <wchar.h>
#include <ncursesw/curses.h>

// ncurses exposes these as global variables or macros. Swift 6 strict concurrency rejects
// mutable globals and cannot import function-like macros, so each one gets an accessor.
static inline WINDOW *nc_stdscr(void) { return stdscr; }
static inline int nc_lines(void) { return LINES; }
static inline int nc_cols(void) { return COLS; }
static inline int nc_colors(void) { return COLORS; }
static inline int nc_color_pairs(void) { return COLOR_PAIRS; }
static inline int nc_err(void) { return ERR; }
static inline int nc_ok(void) { return OK; }
static inline int nc_key_resize(void) { return KEY_RESIZE; }
static inline int nc_key_mouse(void) { return KEY_MOUSE; }
static inline attr_t nc_a_bold(void) { return A_BOLD; }
static inline attr_t nc_a_reverse(void) { return A_REVERSE; }
static inline attr_t nc_a_dim(void) { return A_DIM; }
static inline attr_t nc_a_underline(void) { return A_UNDERLINE; }
static inline chtype nc_color_pair(int pair) { return COLOR_PAIR(pair); }
static inline int nc_getmaxy(WINDOW *w) { return getmaxy(w); }
static inline int nc_getmaxx(WINDOW *w) { return getmaxx(w); }
/// mvwaddnwstr is a macro over wmove + waddnwstr in some builds; keep one callable form.
static inline int nc_mvwaddwstr(WINDOW *w, int y, int x, const wchar_t *s, int n) {
    if (wmove(w, y, x) == ERR) return ERR;
    return waddnwstr(w, s, n);
}

#endif
