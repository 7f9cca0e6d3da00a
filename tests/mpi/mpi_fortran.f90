! mpi_fortran.f90 — a Fortran MPI caller for tests/mpi/check_mpi.py: its
! calls enter Open MPI's Fortran bindings, which libdasf-profiler-mpi wraps.
program mpi_fortran
  use mpi
  implicit none
  integer :: ierr, rank, nranks, right, left, it
  integer :: req(2)
  integer :: status(MPI_STATUS_SIZE)
  double precision :: sbuf(16), rbuf(16), s, total
  call MPI_INIT(ierr)
  call MPI_COMM_RANK(MPI_COMM_WORLD, rank, ierr)
  call MPI_COMM_SIZE(MPI_COMM_WORLD, nranks, ierr)
  right = mod(rank + 1, nranks)
  left = mod(rank + nranks - 1, nranks)
  do it = 1, 5
    sbuf = rank
    if (mod(rank, 2) == 0) then
      call MPI_SEND(sbuf, 16, MPI_DOUBLE_PRECISION, right, 7, MPI_COMM_WORLD, ierr)
      call MPI_RECV(rbuf, 16, MPI_DOUBLE_PRECISION, left, 7, MPI_COMM_WORLD, status, ierr)
    else
      call MPI_RECV(rbuf, 16, MPI_DOUBLE_PRECISION, left, 7, MPI_COMM_WORLD, status, ierr)
      call MPI_SEND(sbuf, 16, MPI_DOUBLE_PRECISION, right, 7, MPI_COMM_WORLD, ierr)
    end if
    call MPI_IRECV(rbuf, 4, MPI_DOUBLE_PRECISION, left, 8, MPI_COMM_WORLD, req(1), ierr)
    call MPI_ISEND(sbuf, 4, MPI_DOUBLE_PRECISION, right, 8, MPI_COMM_WORLD, req(2), ierr)
    call MPI_WAITALL(2, req, MPI_STATUSES_IGNORE, ierr)
    s = rank
    call MPI_ALLREDUCE(s, total, 1, MPI_DOUBLE_PRECISION, MPI_SUM, MPI_COMM_WORLD, ierr)
  end do
  call MPI_BARRIER(MPI_COMM_WORLD, ierr)
  call MPI_FINALIZE(ierr)
end program mpi_fortran
