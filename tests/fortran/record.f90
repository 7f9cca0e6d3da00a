! record.f90 -- a Fortran program recording through the `dasf` module
! (run by tests/test_fortran.c, which reads the trace back and checks every
! event's name, phase, count and times; tests/test_install.c builds it again
! against an installed copy).
!
!   record TRACE     records into TRACE, prints "fortran: recorded N events"
!
! The program checks the status of every call itself (and of misuse: calls
! on a profiler that is not open, creating twice) and stops with a non-zero
! exit status on the first surprise.
program record
   use, intrinsic :: iso_c_binding, only: c_double, c_int32_t
   use dasf
   implicit none
   type(dasf_profiler) :: prof, closed
   type(dasf_zone) :: z, inner, never
   character(len=4096) :: path
   character(len=16) :: padded
   integer :: ierr, i, n
   integer(c_int32_t) :: h
   real(c_double) :: t0, t1

   if (command_argument_count() /= 1) then
      write (*, '(a)') 'usage: record TRACE'
      stop 2
   end if
   call get_command_argument(1, path)

   ! Misuse: a profiler that is not open gives a status, never a crash.
   call dasf_commit(closed, stat=ierr)
   call expect(ierr == DASF_EINVAL, 'commit on a profiler not open')
   call dasf_record_complete(closed, 'x', 1.0_c_double, 1.0_c_double, stat=ierr)
   call expect(ierr == DASF_EINVAL, 'record on a profiler not open')
   call dasf_destroy(closed, stat=ierr)
   call expect(ierr == DASF_OK, 'destroy of a profiler not open')
   call dasf_zone_end(never) ! never begun: records nothing
   call expect(len(dasf_strerror(DASF_EINVAL)) > 0, 'dasf_strerror')

   call dasf_create(prof, trim(path), stat=ierr)
   call check(ierr, 'dasf_create')
   call expect(dasf_output_file(prof) == trim(path), 'dasf_output_file')
   call dasf_create(prof, trim(path), stat=ierr)
   call expect(ierr == DASF_EINVAL, 'dasf_create on an open profiler')

   n = 0
   do i = 1, 3 ! complete events at 10, 11, 12 (s), 0.25 s long
      call dasf_record_complete(prof, 'compute', 9.0_c_double + i, 0.25_c_double, stat=ierr)
      call check(ierr, 'dasf_record_complete')
      n = n + 1
   end do
   call dasf_record_instant(prof, 'checkpoint', 20.0_c_double, stat=ierr)
   call check(ierr, 'dasf_record_instant')
   n = n + 1
   call dasf_record_begin(prof, 'solve', 30.0_c_double, stat=ierr)
   call check(ierr, 'dasf_record_begin')
   call dasf_record_end(prof, 'solve', 31.5_c_double, stat=ierr)
   call check(ierr, 'dasf_record_end')
   n = n + 2
   padded = 'padded' ! trailing blanks are not part of the name
   call dasf_record_instant(prof, padded, 40.0_c_double) ! no stat: fine too
   n = n + 1

   ! Zones: a string name, and an interned handle, nested; ended once.
   h = dasf_intern('inner')
   call expect(h > 0, 'dasf_intern')
   t0 = dasf_now()
   do i = 1, 4
      z = dasf_zone_begin(prof, 'outer')
      inner = dasf_zone_begin(prof, h)
      call dasf_zone_end(inner)
      call dasf_zone_end(inner) ! already ended: nothing more
      call dasf_zone_end(z)
      n = n + 2
   end do
   t1 = dasf_now()
   call expect(t1 >= t0, 'dasf_now is monotone')
   call expect(dasf_now_ns() > 0, 'dasf_now_ns')

   call dasf_commit(prof, stat=ierr)
   call check(ierr, 'dasf_commit')
   call dasf_destroy(prof, stat=ierr)
   call check(ierr, 'dasf_destroy')
   call dasf_record_instant(prof, 'after', 50.0_c_double, stat=ierr)
   call expect(ierr == DASF_EINVAL, 'record after destroy')
   write (*, '(a,es24.16e3,1x,es24.16e3)') 'fortran: zones between ', t0, t1
   write (*, '(a,i0,a)') 'fortran: recorded ', n, ' events'

contains

   subroutine check(stat, what)
      integer, intent(in) :: stat
      character(len=*), intent(in) :: what
      if (stat /= DASF_OK) then
         write (*, '(a,a,i0,a,a)') what, ' failed: ', stat, ' ', dasf_strerror(stat)
         error stop 1
      end if
   end subroutine check

   subroutine expect(ok, what)
      logical, intent(in) :: ok
      character(len=*), intent(in) :: what
      if (.not. ok) then
         write (*, '(a,a)') 'unexpected: ', what
         error stop 1
      end if
   end subroutine expect
end program record
