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
// openpty (in libc since glibc 2.34): a pseudo-terminal for measuring the screens without a
// terminal emulator.
#include <pty.h>

// ncurses exposes these as global variables or macros. Swift 6 strict concurrency rejects
// mutable globals and cannot import function-like macros, so each one gets an accessor.
static inline WINDOW *nc_stdscr(void) { return stdscr; }

// Whether the current terminal can move the cursor (terminfo 'cup'). tigetstr returns
// (char *)-1 for a name that is not a string capability and NULL for one that is absent.
static inline int nc_can_address_cursor(void) {
    char *cup = tigetstr("cup");
    return cup != NULL && cup != (char *)-1;
}
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

// Mouse: the button masks are macros.
static inline mmask_t nc_button1_pressed(void) { return BUTTON1_PRESSED; }
static inline mmask_t nc_button1_released(void) { return BUTTON1_RELEASED; }
static inline mmask_t nc_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline mmask_t nc_report_mouse_position(void) { return REPORT_MOUSE_POSITION; }
/// The wheel: ncurses reports it as presses of buttons 4 (up) and 5 (down).
static inline mmask_t nc_wheel_up(void) { return BUTTON4_PRESSED; }
static inline mmask_t nc_wheel_down(void) {
#if defined(BUTTON5_PRESSED)
    return BUTTON5_PRESSED;
#else
    return 0;
#endif
}
static inline mmask_t nc_all_mouse_events(void) { return ALL_MOUSE_EVENTS; }
/// Reads the pending mouse event: returns OK and fills (y, x, state), else ERR.
static inline int nc_getmouse(int *y, int *x, mmask_t *state) {
    MEVENT event;
    if (getmouse(&event) != OK) return ERR;
    *y = event.y; *x = event.x; *state = event.bstate;
    return OK;
}
/// One wide character at (y, x) in colour pair `pair` (extended pairs above 32767 included)
/// with attributes `attrs`.
static inline int nc_put_cell(WINDOW *w, int y, int x, wchar_t ch, int pair, attr_t attrs) {
    cchar_t cell;
    wchar_t text[2] = { ch, 0 };
    if (setcchar(&cell, text, attrs, 0, &pair) == ERR) return ERR;
    return mvwadd_wch(w, y, x, &cell);
}
/// Switches attributes and an extended colour pair on for the following text.
static inline int nc_set_attributes(WINDOW *w, attr_t attrs, int pair) {
    return wattr_set(w, attrs, 0, &pair);
}

#endif
