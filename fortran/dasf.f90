! dasf.f90 -- the Fortran module of dasf-profiler (module `dasf`).
!
! Fortran 2008 with ISO_C_BINDING over the C library's public API
! (include/dasf/profiler.h): no C glue code, the module calls the C
! functions directly.  The everyday calls:
!
!   use dasf
!   type(dasf_profiler) :: prof
!   type(dasf_zone) :: z
!   integer :: ierr
!   call dasf_create(prof, "run.msgpack.zst", stat=ierr)   ! EventProfiler(...)
!   call dasf_record_complete(prof, "step", t0, dasf_now() - t0)
!   call dasf_record_instant(prof, "checkpoint", dasf_now())
!   call dasf_record_begin(prof, "solve", dasf_now())
!   call dasf_record_end(prof, "solve", dasf_now())
!   z = dasf_zone_begin(prof, "io")        ! a complete event timed by the library
!   ...                                    ! clock, from here ...
!   call dasf_zone_end(z)                  ! ... to here
!   call dasf_commit(prof, stat=ierr)
!   call dasf_destroy(prof, stat=ierr)
!
! Every subroutine takes an optional `stat` (intent(out)): 0 (DASF_OK) or a
! negative dasf_status; dasf_strerror(stat) explains it.  Without `stat`
! an error is silent, as an unchecked return value is in C.  Times are
! seconds (real(c_double)) on dasf_now()'s clock.  Names: trailing blanks
! are removed (Fortran pads fixed-length strings); the library copies them.
!
! This file is installed as include/dasf/dasf.f90 (a .mod file is specific
! to one compiler and version, the source is not): compile it with your
! program, e.g.
!   gfortran -c $(pkg-config --variable=includedir dasf-profiler)/dasf/dasf.f90
!   gfortran app.f90 dasf.o $(pkg-config --libs dasf-profiler)
! docs/FORTRAN.md has the details.
module dasf
   use, intrinsic :: iso_c_binding, only: c_ptr, c_null_ptr, c_associated, c_loc, &
                                          c_f_pointer, c_char, c_null_char, c_int, &
                                          c_int32_t, c_int64_t, c_double, c_size_t
   implicit none
   private

   ! dasf_status (include/dasf/profiler.h)
   integer, parameter, public :: DASF_OK = 0, DASF_EINVAL = -1, DASF_ENOMEM = -2, &
                                 DASF_EIO = -3, DASF_ELOCK_TIMEOUT = -4, &
                                 DASF_ECORRUPT = -5, DASF_EFORMAT = -6, &
                                 DASF_ECLOSED = -7, DASF_ENOSPC = -8, &
                                 DASF_EDROPPED = -9, DASF_ENOTSUP = -10, &
                                 DASF_ENOENT = -11

   !> A profiler (dasf_profiler *).  Default-initialised: not open.
   type, public :: dasf_profiler
      type(c_ptr) :: ptr = c_null_ptr
   end type dasf_profiler

   !> A zone (the C struct dasf_zone_ctx, same layout).  Default-initialised:
   !> not open (dasf_zone_end on it records nothing).
   type, public, bind(c) :: dasf_zone
      type(c_ptr) :: p = c_null_ptr
      integer(c_int32_t) :: name = 0 ! dasf_name (uint32_t)
      integer(c_int64_t) :: start = 0 ! raw clock ticks (uint64_t)
   end type dasf_zone

   public :: dasf_create, dasf_destroy, dasf_commit
   public :: dasf_record_complete, dasf_record_instant, dasf_record_begin, dasf_record_end
   public :: dasf_zone_begin, dasf_zone_end, dasf_intern
   public :: dasf_now, dasf_now_ns, dasf_strerror, dasf_output_file

   !> dasf_zone_begin(prof, name) with a string (interned on each call) or
   !> with a handle from dasf_intern (interned once: the fastest way).
   interface dasf_zone_begin
      module procedure zone_begin_str, zone_begin_handle
   end interface dasf_zone_begin

   interface
      !> dasf_now(): seconds on CLOCK_MONOTONIC's time line (the library clock).
      function dasf_now() bind(c, name="dasf_now") result(t)
         import :: c_double
         real(c_double) :: t
      end function dasf_now
      !> dasf_now_ns(): the same clock in integer nanoseconds.
      function dasf_now_ns() bind(c, name="dasf_now_ns") result(t)
         import :: c_int64_t
         integer(c_int64_t) :: t
      end function dasf_now_ns

      function c_profiler_create(out, file, opts, db) &
         bind(c, name="dasf_profiler_create") result(rc)
         import :: c_ptr, c_int
         type(c_ptr), intent(out) :: out
         type(c_ptr), value :: file, opts, db
         integer(c_int) :: rc
      end function c_profiler_create
      function c_profiler_destroy(p) bind(c, name="dasf_profiler_destroy") result(rc)
         import :: c_ptr, c_int
         type(c_ptr), value :: p
         integer(c_int) :: rc
      end function c_profiler_destroy
      function c_profiler_commit(p) bind(c, name="dasf_profiler_commit") result(rc)
         import :: c_ptr, c_int
         type(c_ptr), value :: p
         integer(c_int) :: rc
      end function c_profiler_commit
      function c_record_complete(p, name, ts, dur, opts) &
         bind(c, name="dasf_profiler_record_complete_event") result(rc)
         import :: c_ptr, c_char, c_double, c_int
         type(c_ptr), value :: p
         character(kind=c_char), dimension(*), intent(in) :: name
         real(c_double), value :: ts, dur
         type(c_ptr), value :: opts
         integer(c_int) :: rc
      end function c_record_complete
      function c_record_instant(p, name, ts, opts) &
         bind(c, name="dasf_profiler_record_instant_event") result(rc)
         import :: c_ptr, c_char, c_double, c_int
         type(c_ptr), value :: p
         character(kind=c_char), dimension(*), intent(in) :: name
         real(c_double), value :: ts
         type(c_ptr), value :: opts
         integer(c_int) :: rc
      end function c_record_instant
      function c_record_begin(p, name, ts, opts) &
         bind(c, name="dasf_profiler_record_duration_begin_event") result(rc)
         import :: c_ptr, c_char, c_double, c_int
         type(c_ptr), value :: p
         character(kind=c_char), dimension(*), intent(in) :: name
         real(c_double), value :: ts
         type(c_ptr), value :: opts
         integer(c_int) :: rc
      end function c_record_begin
      function c_record_end(p, name, ts, opts) &
         bind(c, name="dasf_profiler_record_duration_end_event") result(rc)
         import :: c_ptr, c_char, c_double, c_int
         type(c_ptr), value :: p
         character(kind=c_char), dimension(*), intent(in) :: name
         real(c_double), value :: ts
         type(c_ptr), value :: opts
         integer(c_int) :: rc
      end function c_record_end
      function c_intern(name) bind(c, name="dasf_intern") result(h)
         import :: c_char, c_int32_t
         character(kind=c_char), dimension(*), intent(in) :: name
         integer(c_int32_t) :: h
      end function c_intern
      function c_zone_ticks() bind(c, name="dasf_zone_ticks") result(t)
         import :: c_int64_t
         integer(c_int64_t) :: t
      end function c_zone_ticks
      subroutine c_zone_end(z) bind(c, name="dasf_zone_end")
         import :: dasf_zone
         type(dasf_zone), intent(inout) :: z
      end subroutine c_zone_end
      function c_strerror(status) bind(c, name="dasf_strerror") result(s)
         import :: c_ptr, c_int
         integer(c_int), value :: status
         type(c_ptr) :: s
      end function c_strerror
      function c_output_file(p) bind(c, name="dasf_profiler_output_file") result(s)
         import :: c_ptr
         type(c_ptr), value :: p
         type(c_ptr) :: s
      end function c_output_file
      function c_strlen(s) bind(c, name="strlen") result(n)
         import :: c_ptr, c_size_t
         type(c_ptr), value :: s
         integer(c_size_t) :: n
      end function c_strlen
   end interface

contains

   ! s without trailing blanks, NUL-terminated, for a C string argument.
   pure function cstr(s) result(r)
      character(len=*), intent(in) :: s
      character(kind=c_char, len=len_trim(s) + 1) :: r
      r = trim(s)//c_null_char
   end function cstr

   ! A C string (NULL: "") as a Fortran string.
   function fstr(p) result(r)
      type(c_ptr), intent(in) :: p
      character(len=:), allocatable :: r
      character(kind=c_char), pointer :: chars(:)
      integer :: i, n
      if (.not. c_associated(p)) then
         r = ""
         return
      end if
      n = int(c_strlen(p))
      call c_f_pointer(p, chars, [n])
      allocate (character(len=n) :: r)
      do i = 1, n
         r(i:i) = chars(i)
      end do
   end function fstr

   subroutine set_stat(stat, rc)
      integer, intent(out), optional :: stat
      integer(c_int), intent(in) :: rc
      if (present(stat)) stat = int(rc)
   end subroutine set_stat

   !> dasf_create(prof [, file] [, stat]): dasf_profiler_create with the
   !> profiler's defaults.  No file: "traces-XXXXXXXX.msgpack[.zst]".  The
   !> layout follows the library's default (see include/dasf/profiler.h).
   !> DASF_EINVAL when prof is already open.
   subroutine dasf_create(prof, file, stat)
      type(dasf_profiler), intent(inout) :: prof
      character(len=*), intent(in), optional :: file
      integer, intent(out), optional :: stat
      character(kind=c_char), allocatable, target :: buf(:)
      type(c_ptr) :: fp
      integer :: i, n
      if (c_associated(prof%ptr)) then
         call set_stat(stat, int(DASF_EINVAL, c_int))
         return
      end if
      fp = c_null_ptr
      if (present(file)) then
         n = len_trim(file)
         allocate (buf(n + 1))
         do i = 1, n
            buf(i) = file(i:i)
         end do
         buf(n + 1) = c_null_char
         fp = c_loc(buf)
      end if
      call set_stat(stat, c_profiler_create(prof%ptr, fp, c_null_ptr, c_null_ptr))
   end subroutine dasf_create

   !> dasf_destroy(prof [, stat]): commit (commit_on_close), close, free.
   !> stat: the final commit's status.  Not open: stat = 0.
   subroutine dasf_destroy(prof, stat)
      type(dasf_profiler), intent(inout) :: prof
      integer, intent(out), optional :: stat
      if (.not. c_associated(prof%ptr)) then
         call set_stat(stat, int(DASF_OK, c_int))
         return
      end if
      call set_stat(stat, c_profiler_destroy(prof%ptr))
      prof%ptr = c_null_ptr
   end subroutine dasf_destroy

   !> dasf_commit(prof [, stat]): returns once every event recorded so far
   !> is in the file (or with the error that prevented it).
   subroutine dasf_commit(prof, stat)
      type(dasf_profiler), intent(in) :: prof
      integer, intent(out), optional :: stat
      call set_stat(stat, c_profiler_commit(prof%ptr))
   end subroutine dasf_commit

   !> dasf_record_complete(prof, name, timestamp, duration [, stat]): phase X.
   subroutine dasf_record_complete(prof, name, timestamp, duration, stat)
      type(dasf_profiler), intent(in) :: prof
      character(len=*), intent(in) :: name
      real(c_double), intent(in) :: timestamp, duration
      integer, intent(out), optional :: stat
      call set_stat(stat, c_record_complete(prof%ptr, cstr(name), timestamp, duration, &
                                            c_null_ptr))
   end subroutine dasf_record_complete

   !> dasf_record_instant(prof, name, timestamp [, stat]): phase I, global scope.
   subroutine dasf_record_instant(prof, name, timestamp, stat)
      type(dasf_profiler), intent(in) :: prof
      character(len=*), intent(in) :: name
      real(c_double), intent(in) :: timestamp
      integer, intent(out), optional :: stat
      call set_stat(stat, c_record_instant(prof%ptr, cstr(name), timestamp, c_null_ptr))
   end subroutine dasf_record_instant

   !> dasf_record_begin(prof, name, timestamp [, stat]): phase B.
   subroutine dasf_record_begin(prof, name, timestamp, stat)
      type(dasf_profiler), intent(in) :: prof
      character(len=*), intent(in) :: name
      real(c_double), intent(in) :: timestamp
      integer, intent(out), optional :: stat
      call set_stat(stat, c_record_begin(prof%ptr, cstr(name), timestamp, c_null_ptr))
   end subroutine dasf_record_begin

   !> dasf_record_end(prof, name, timestamp [, stat]): phase E.
   subroutine dasf_record_end(prof, name, timestamp, stat)
      type(dasf_profiler), intent(in) :: prof
      character(len=*), intent(in) :: name
      real(c_double), intent(in) :: timestamp
      integer, intent(out), optional :: stat
      call set_stat(stat, c_record_end(prof%ptr, cstr(name), timestamp, c_null_ptr))
   end subroutine dasf_record_end

   !> dasf_intern(name): a handle for name (> 0), valid for the whole
   !> process; 0 when memory is exhausted.
   function dasf_intern(name) result(h)
      character(len=*), intent(in) :: name
      integer(c_int32_t) :: h
      h = c_intern(cstr(name))
   end function dasf_intern

   function zone_begin_handle(prof, handle) result(z)
      type(dasf_profiler), intent(in) :: prof
      integer(c_int32_t), intent(in) :: handle
      type(dasf_zone) :: z
      z%p = prof%ptr
      z%name = handle
      z%start = c_zone_ticks() ! last: the set-up is not in the zone
   end function zone_begin_handle

   function zone_begin_str(prof, name) result(z)
      type(dasf_profiler), intent(in) :: prof
      character(len=*), intent(in) :: name
      type(dasf_zone) :: z
      z = zone_begin_handle(prof, c_intern(cstr(name)))
   end function zone_begin_str

   !> dasf_zone_end(z): records the zone as a complete event (phase X) from
   !> its dasf_zone_begin to now.  A zone ends once: later calls, and zones
   !> of a profiler that was not open, record nothing.
   subroutine dasf_zone_end(z)
      type(dasf_zone), intent(inout) :: z
      if (.not. c_associated(z%p)) return
      call c_zone_end(z)
      z%p = c_null_ptr
   end subroutine dasf_zone_end

   !> dasf_strerror(status): the library's sentence for a status.
   function dasf_strerror(status) result(msg)
      integer, intent(in) :: status
      character(len=:), allocatable :: msg
      msg = fstr(c_strerror(int(status, c_int)))
   end function dasf_strerror

   !> dasf_output_file(prof): the trace file's name ("" when not open).
   function dasf_output_file(prof) result(name)
      type(dasf_profiler), intent(in) :: prof
      character(len=:), allocatable :: name
      if (.not. c_associated(prof%ptr)) then
         name = ""
      else
         name = fstr(c_output_file(prof%ptr))
      end if
   end function dasf_output_file

end module dasf
