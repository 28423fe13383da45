/* SPDX-License-Identifier: MIT
 *
 * test-hermetic.c: tests run with a HOME, caches and a temporary folder of
 * their own (tests/hermetic-run), never the user's. */
#include <pwd.h>
#include <unistd.h>

#include <glib.h>

static void
test_folders (void)
{
  struct passwd *user = getpwuid (getuid ());
  g_autofree char *home = g_path_get_dirname (g_get_home_dir ());
  g_autofree char *cache = g_path_get_dirname (g_get_user_cache_dir ());
  g_autofree char *base = g_path_get_basename (home);
  g_autofree char *ours = g_build_filename (g_get_user_cache_dir (), "epd-studio", NULL);

  g_assert_nonnull (user);
  g_assert_cmpstr (g_get_home_dir (), !=, user->pw_dir);
  /* HOME and every XDG folder sit in one fresh epd-test-XXXXXX folder. */
  g_assert_true (g_str_has_prefix (base, "epd-test-"));
  g_assert_cmpstr (cache, ==, home);
  g_assert_cmpstr (g_getenv ("XDG_CONFIG_HOME"), !=, NULL);
  g_assert_true (g_str_has_prefix (g_get_user_config_dir (), home));
  g_assert_true (g_str_has_prefix (g_get_user_data_dir (), home));
  g_assert_true (g_str_has_prefix (g_get_user_runtime_dir (), home));
  g_assert_true (g_str_has_prefix (g_get_tmp_dir (), home));
  /* Fresh: nothing cached by another test. */
  g_assert_false (g_file_test (ours, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hermetic/folders", test_folders);
  return g_test_run ();
}
