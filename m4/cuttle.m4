# cuttle.m4 - dependency checks that name the Debian package to install.

# CUTTLE_CFLAGS_STD: C11 with GNU extensions, as the code base is written.
AC_DEFUN([CUTTLE_CFLAGS_STD], [
  AS_CASE([" $CFLAGS "], [*" -std="*], [], [CFLAGS="$CFLAGS -std=gnu11"])
])

# CUTTLE_REQUIRE_HEADER_LIB(NAME, HEADER, FUNCTION, LIB, DEBIAN-PACKAGE)
# Finds HEADER and FUNCTION in -lLIB; sets LIBS_FOUND to the link flags.
# Does not add to LIBS: each program links only what it uses.
AC_DEFUN([CUTTLE_REQUIRE_HEADER_LIB], [
  AC_CHECK_HEADER([$2], [],
    [AC_MSG_ERROR([$1 not found ($2 missing): install the Debian package $5])])
  cuttle_save_LIBS=$LIBS
  AC_SEARCH_LIBS([$3], [$4], [],
    [AC_MSG_ERROR([$1 not found (no $3 in -l$4): install the Debian package $5])])
  AS_VAR_COPY([LIBS_FOUND], [ac_cv_search_$3])
  AS_IF([test "x$LIBS_FOUND" = "xnone required"], [LIBS_FOUND=])
  LIBS=$cuttle_save_LIBS
])

# CUTTLE_REQUIRE_PKG(VAR, PKG-SPEC, DEBIAN-PACKAGE)
# Sets and substitutes VAR_CFLAGS and VAR_LIBS from pkg-config.
AC_DEFUN([CUTTLE_REQUIRE_PKG], [
  AC_MSG_CHECKING([for $2])
  AS_IF([$PKG_CONFIG --exists "$2"],
    [$1_CFLAGS=`$PKG_CONFIG --cflags "$2"`
     $1_LIBS=`$PKG_CONFIG --libs "$2"`
     AC_MSG_RESULT([yes, `$PKG_CONFIG --modversion "m4_bpatsubst([$2], [ .*])"`])],
    [AC_MSG_RESULT([no])
     AC_MSG_ERROR([$2 not found: install the Debian package $3])])
  AC_SUBST([$1_CFLAGS])
  AC_SUBST([$1_LIBS])
])
